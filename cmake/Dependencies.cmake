# Third-party packages. Torch_DIR may point at any cxx11-ABI libtorch (e.g. a CUDA build).
find_package(Torch REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(spdlog REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

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

# NCCL: built when CUDA's NCCL is found (compile/link only where no GPU is present).
find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_ROOT} /usr/local/cuda PATH_SUFFIXES include)
find_library(NCCL_LIBRARY nccl HINTS ${CUDAToolkit_ROOT} /usr/local/cuda PATH_SUFFIXES lib64 lib)
find_library(CUDART_LIBRARY cudart HINTS ${CUDAToolkit_ROOT} /usr/local/cuda PATH_SUFFIXES lib64 lib)
if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY AND CUDART_LIBRARY)
  set(DNAS_HAVE_NCCL ON)
  message(STATUS "dnas: NCCL backend enabled (${NCCL_LIBRARY})")
else()
  set(DNAS_HAVE_NCCL OFF)
  message(STATUS "dnas: NCCL not found, NCCL backend disabled")
endif()
