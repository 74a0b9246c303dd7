# Third-party packages. Torch_DIR may point at any cxx11-ABI libtorch (e.g. a CUDA build).
find_package(Torch REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(spdlog REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
# dnas's kernels call at::parallel_for, which is inline and needs OpenMP to run on more than one
# thread when libtorch was built with OpenMP. They link the OpenMP runtime libtorch ships beside
# itself, if any (PyTorch's own builds), so that one process has one OpenMP thread pool.
find_file(DNAS_ATEN_CONFIG ATen/Config.h PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH REQUIRED)
file(STRINGS ${DNAS_ATEN_CONFIG} _aten_openmp REGEX "#define AT_PARALLEL_OPENMP 1")
set(DNAS_KERNEL_OPENMP OFF)
if(_aten_openmp)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  set(DNAS_KERNEL_OPENMP ON)
  file(GLOB DNAS_TORCH_OPENMP_LIBRARY ${TORCH_INSTALL_PREFIX}/lib/libgomp*.so*)
  if(DNAS_TORCH_OPENMP_LIBRARY)
    list(GET DNAS_TORCH_OPENMP_LIBRARY 0 DNAS_TORCH_OPENMP_LIBRARY)
    message(STATUS "dnas: kernels use libtorch's OpenMP runtime ${DNAS_TORCH_OPENMP_LIBRARY}")
  else()
    message(STATUS "dnas: kernels use the compiler's OpenMP runtime (${OpenMP_CXX_LIBRARIES})")
  endif()
endif()
# Image codecs, MATLAB files and tar archives for the image-folder, SVHN and shard readers.
find_package(PkgConfig REQUIRED)
pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)
pkg_check_modules(MATIO REQUIRED IMPORTED_TARGET matio)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
find_package(PNG REQUIRED)

# torch_lib: libtorch behind an INTERFACE target with SYSTEM includes.
add_library(torch_lib INTERFACE)
# PyTorch's own builds of libtorch export copies of some std::filesystem functions; when
# libtorch is loaded before libstdc++, calls bind to those copies and crash (remove_all).
# libstdc++ goes first in the link order so that its definitions win.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_link_libraries(torch_lib INTERFACE stdc++)
endif()
target_link_libraries(torch_lib INTERFACE ${TORCH_LIBRARIES})
# libtorch 2.x ships its own fmt headers in its include folder, which would shadow the fmt
# that spdlog was built with. A folder holding only a link to spdlog's fmt goes first.
find_path(DNAS_FMT_INCLUDE_DIR fmt/core.h)
set(DNAS_TORCH_INCLUDE_DIRS ${TORCH_INCLUDE_DIRS})
list(GET TORCH_INCLUDE_DIRS 0 _torch_include)
if(DNAS_FMT_INCLUDE_DIR AND EXISTS "${_torch_include}/fmt/core.h"
   AND NOT DNAS_FMT_INCLUDE_DIR STREQUAL _torch_include)
  set(_fmt_shadow ${PROJECT_BINARY_DIR}/fmt_shadow)
  file(MAKE_DIRECTORY ${_fmt_shadow})
  file(CREATE_LINK ${DNAS_FMT_INCLUDE_DIR}/fmt ${_fmt_shadow}/fmt SYMBOLIC)
  list(PREPEND DNAS_TORCH_INCLUDE_DIRS ${_fmt_shadow})
  message(STATUS "dnas: libtorch bundles fmt; using spdlog's fmt from ${DNAS_FMT_INCLUDE_DIR}")
endif()
target_include_directories(torch_lib SYSTEM INTERFACE ${DNAS_TORCH_INCLUDE_DIRS})

# NCCL: linked only into a dnas built against a CUDA libtorch, found beside that libtorch's CUDA
# first, and refused when its CUDA runtime's major version is not libtorch's. With a CPU
# libtorch the NCCL sources are compiled but not linked (when NCCL's headers are found), so the
# GPU-only code is checked on machines without a GPU.
set(_dnas_cuda_hints ${CUDA_TOOLKIT_ROOT_DIR} ${CUDAToolkit_ROOT} /usr/local/cuda)
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${_dnas_cuda_hints} PATH_SUFFIXES include)
find_library(NCCL_LIBRARY nccl HINTS ${_dnas_cuda_hints} PATH_SUFFIXES lib64 lib)
find_library(CUDART_LIBRARY cudart HINTS ${_dnas_cuda_hints} PATH_SUFFIXES lib64 lib)
find_path(CUDART_INCLUDE_DIR cuda_runtime_api.h HINTS ${_dnas_cuda_hints} PATH_SUFFIXES include)
set(DNAS_HAVE_NCCL OFF)
set(DNAS_NCCL_COMPILE_CHECK OFF)
if(TORCH_CUDA_LIBRARIES)
  if(NOT (NCCL_INCLUDE_DIR AND NCCL_LIBRARY AND CUDART_LIBRARY AND CUDART_INCLUDE_DIR))
    message(FATAL_ERROR "dnas: libtorch has CUDA but NCCL or the CUDA runtime was not found; "
                        "set NCCL_INCLUDE_DIR, NCCL_LIBRARY and CUDAToolkit_ROOT")
  endif()
  file(STRINGS ${CUDART_INCLUDE_DIR}/cuda_runtime_api.h _cudart_line REGEX "#define CUDART_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+" _cudart_version "${_cudart_line}")
  math(EXPR _cudart_major "${_cudart_version} / 1000")
  string(REGEX MATCH "^[0-9]+" _torch_cuda_major "${CUDA_VERSION}")
  if(_torch_cuda_major AND NOT _torch_cuda_major EQUAL _cudart_major)
    message(FATAL_ERROR "dnas: libtorch uses CUDA ${CUDA_VERSION} but the CUDA runtime found beside NCCL "
                        "(${CUDART_LIBRARY}) is CUDA ${_cudart_major}; set CUDAToolkit_ROOT to libtorch's CUDA")
  endif()
  set(DNAS_HAVE_NCCL ON)
  message(STATUS "dnas: NCCL backend enabled (${NCCL_LIBRARY}, CUDA runtime ${_cudart_version}, libtorch CUDA ${CUDA_VERSION})")
elseif(NCCL_INCLUDE_DIR AND CUDART_INCLUDE_DIR)
  set(DNAS_NCCL_COMPILE_CHECK ON)
  message(STATUS "dnas: CPU libtorch: the NCCL backend is compiled as a check, not linked")
else()
  message(STATUS "dnas: CPU libtorch, NCCL not found: no NCCL backend")
endif()
