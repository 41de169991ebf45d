# The Debian package of the SDK: `cpack -G DEB` (or `ninja package`) in the
# build directory writes ncl_<version>_<arch>.deb with everything
# `cmake --install` installs, under /usr. Included from the top level, after
# every install rule.
#
# Dependencies (test/sdk/package_checks.sh checks that they cover every
# NEEDED library of the packaged binaries, mapped to packages by dpkg -S):
# - nclc links LLVM, MLIR and lld statically (NCL_STATIC_NCLC); with it
#   off, nclc needs libLLVM and libMLIR like libnclcompiler.
# - libnclcompiler links libLLVM.so.22.1 (libllvm22) and libMLIR.so.22.1
#   (libmlir-22): the runtime libraries, not the -dev packages.
# - Both link a model with lld in-process, against the C library's
#   libc.so and libm.so: libc6-dev (no system linker is run).
# - libnclcompiler links the ANTLR runtime's shared library (nclc its
#   static one); zlib and zstd (LLVM's compression), the C++ runtime, libc.
set(CPACK_PACKAGE_NAME "ncl")
set(CPACK_PACKAGE_VERSION "${NCL_VERSION}")
set(CPACK_PACKAGE_VENDOR "NCL")
set(CPACK_PACKAGE_CONTACT "NCL developers <ncl@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "NCL: a compiler and runtime for neural dynamics (SDK: nclc, ncl-run, libnclrt, libnclcompiler)")
set(CPACK_PACKAGE_DESCRIPTION
    "nclc compiles .ncl models into shared libraries; libnclrt loads and runs them. Includes the C headers, the compiler as a library, the standard library of models, a CMake package (find_package(NCL), ncl_add_model) and pkg-config files.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
# The ~90 MB nclc compresses in a few seconds with gzip (xz takes a minute).
set(CPACK_DEBIAN_COMPRESSION_TYPE "gzip")
set(NCL_DEB_DEPENDS
    "libllvm${LLVM_VERSION_MAJOR}"
    "libmlir-${LLVM_VERSION_MAJOR}"
    "libc6"
    "libc6-dev"
    "libstdc++6"
    "libgcc-s1"
    "zlib1g"
    "libzstd1"
    "libantlr4-runtime4.9")
list(JOIN NCL_DEB_DEPENDS ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake, pkg-config")
include(CPack)
