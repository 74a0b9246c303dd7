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
target_link_libraries(torch_lib INTERFACE ${TORCH_LIBRARIES})
target_include_directories(torch_lib SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})

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
