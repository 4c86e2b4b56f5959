/**
 * The hardened systemd unit for agent-inf, as text. Pure: systemd.ts decides the inputs and
 * writes the file. The directives are the ones tested with real systemd 252 in deploy.md §4.2
 * (`systemd-analyze security`: 1.3 "OK" for this JIT variant, 1.4 for the MDWE variant).
 */

export interface Credential {
  /** The name under $CREDENTIALS_DIRECTORY (the file's base name, see credentials.ts). */
  readonly id: string;
  readonly path: string;
}

export interface UnitOptions {
  /** Unit name without ".service"; also the state and logs directory name. */
  readonly name: string;
  readonly execPath: string;
  readonly configPath: string;
  /** "dynamic" for DynamicUser=yes, else a dedicated system user. */
  readonly user: string;
  readonly credentials: readonly Credential[];
  /** Folders outside StateDirectory/LogsDirectory the service writes (dedicated user only). */
  readonly extraWritePaths: readonly string[];
  /**
   * Variant (B) of docs/DEPLOY.md: MemoryDenyWriteExecute=yes (JavaScriptCore runs without a
   * JIT, bun:ffi is unavailable) and sd_notify by spawning systemd-notify, so NotifyAccess=all.
   */
  readonly mdwe: boolean;
  readonly watchdogSec: number;
}

export const DEFAULT_WATCHDOG_SEC = 20;

export function renderUnit(options: UnitOptions): string {
  const dynamic = options.user === "dynamic";
  const lines = [
    `# ${options.name}.service, written by \`agent-inf service install\`: re-run install to change`,
    "# it (edits here are overwritten). Hardening and the JIT/MDWE choice: docs/DEPLOY.md.",
    "[Unit]",
    "Description=MT5 Live Bridge inference agent (agent-inf)",
    "After=network-online.target",
    "Wants=network-online.target",
    // Restart=on-failure forever would hide a crash loop; 10 starts in 5 minutes then give up
    "StartLimitIntervalSec=300",
    "StartLimitBurst=10",
    "",
    "[Service]",
    // READY=1 once the agent serves, WATCHDOG=1 at half WatchdogSec (shared/service/sd-notify.ts)
    "Type=notify",
    `NotifyAccess=${options.mdwe ? "all" : "main"}`,
    `ExecStart=${[options.execPath, "run", "--config", options.configPath].map(quoteExecArgument).join(" ")}`,
    "Restart=on-failure",
    "RestartSec=2s",
    "TimeoutStartSec=60s",
    // The agent's graceful stop is bounded well inside this
    "TimeoutStopSec=30s",
    `WatchdogSec=${options.watchdogSec}s`,
    // The default SIGABRT makes Bun print "oh no: Bun has crashed" into the journal, which
    // misleads whoever reads it; the journal still says "Failed with result 'watchdog'"
    "WatchdogSignal=SIGKILL",
    ...(dynamic ? ["DynamicUser=yes"] : [`User=${options.user}`, `Group=${options.user}`]),
    `StateDirectory=${options.name}`,
    "StateDirectoryMode=0700",
    `LogsDirectory=${options.name}`,
    "LogsDirectoryMode=0700",
    ...options.extraWritePaths.map((path) => `ReadWritePaths=-${escapeSpecifiers(path)}`),
    // Keys reach the service as private 0400 copies under $CREDENTIALS_DIRECTORY (deploy.md §5.3)
    ...options.credentials.map(
      (credential) => `LoadCredential=${credential.id}:${escapeSpecifiers(credential.path)}`,
    ),
    "UMask=0077",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateMounts=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "ProcSubset=pid",
    // AF_UNIX for the notify socket; add AF_NETLINK only if the agent ever lists interfaces
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    options.mdwe
      ? "MemoryDenyWriteExecute=yes"
      : // JavaScriptCore's JIT needs W+X pages: CURVE boxes (tweetnacl) are about 17x slower
        // without it, and bun:ffi (sd_notify) refuses to load (docs/DEPLOY.md)
        "MemoryDenyWriteExecute=no",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources",
    "SystemCallErrorNumber=EPERM",
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "RemoveIPC=yes",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}

/**
 * One ExecStart word: "%" starts a specifier and "$" a variable, so both are doubled; words with
 * spaces, quotes or backslashes are double-quoted with C-style escapes (systemd.service(5),
 * "Command lines").
 */
export function quoteExecArgument(word: string): string {
  const escaped = escapeSpecifiers(word).replace(/\$/g, "$$$$");
  if (/^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Specifiers are expanded in most settings; a literal "%" is written "%%". */
export function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, "%%");
}
