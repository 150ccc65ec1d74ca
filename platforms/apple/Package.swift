// swift-tools-version:5.7
// Tern for Swift (iOS and macOS through MoltenVK). NOT BUILT OR RUN BY THIS PROJECT: Debian has no
// Swift toolchain and there is no Apple machine in CI; only the module map is checked there
// (tern.h compiled as the Clang module CTern). See platforms/README.md.
//
// CTern is the C API as is; libtern itself must be built for the target (macOS: cmake on a Mac
// with the Vulkan SDK and MoltenVK; iOS: an XCFramework) and be on the linker's path, since a
// system-library target only names it ("link tern" in the module map). Add this folder as a
// local package (File > Add Packages > Add Local...) and `import CTern`.
import PackageDescription

let package = Package(
  name: "Tern",
  platforms: [.macOS(.v12), .iOS(.v15)],
  products: [
    .library(name: "CTern", targets: ["CTern"]),
  ],
  targets: [
    .systemLibrary(name: "CTern", path: "Sources/CTern"),
  ]
)
