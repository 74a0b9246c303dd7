// Precompiled header for every dnas translation unit: the heavy torch front end.
#pragma once
#include <torch/torch.h>
