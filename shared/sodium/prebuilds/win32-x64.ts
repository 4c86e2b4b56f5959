/**
 * The sodium-native prebuild for win32-x64, embedded in the single-file binary built for that target
 * (../loader.ts picks this module only when scripts/build.ts defines the target). The import
 * yields the file's path: in a compiled binary a path inside Bun's embedded file system.
 */
import path from "sodium-native/prebuilds/win32-x64/sodium-native.node" with { type: "file" };

export default path;
