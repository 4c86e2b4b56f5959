/**
 * systemd credentials (LoadCredential=, deploy.md §4.2 and §5.3): the unit hands each key file
 * to the service as `$CREDENTIALS_DIRECTORY/<id>`, a private copy readable only by the service's
 * (dynamic) user, mode 0400. The id is the file's base name, so an agent finds a key by swapping
 * the configured directory for the credentials directory. Outside systemd nothing changes.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";

/**
 * Where to read the file configured as `configuredPath`: the systemd credential of the same base
 * name when `$CREDENTIALS_DIRECTORY` is set and holds one, else the configured path itself.
 */
export function resolveCredentialPath(
  configuredPath: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  const directory = env["CREDENTIALS_DIRECTORY"];
  if (directory === undefined || directory === "") return configuredPath;
  const candidate = join(directory, credentialId(configuredPath));
  return exists(candidate) ? candidate : configuredPath;
}

/**
 * The credential id for a file: its base name, which systemd accepts as an id as long as it is a
 * valid file name (no "/" and not "." or ".."), as key file names always are.
 */
export function credentialId(path: string): string {
  return basename(path.replace(/\\/g, "/"));
}
