/**
 * The sodium-native prebuild for linux-arm64, embedded in the single-file binary built for that target
 * (../loader.ts picks this module only when scripts/build.ts defines the target). The import
 * yields the file's path: in a compiled binary a path inside Bun's embedded file system.
 */
import path from "sodium-native/prebuilds/linux-arm64/sodium-native.node" with { type: "file" };

export default path;
