// cpu_features.h - run-time choice of the SIMD path.
// The best ISA the CPU supports is read once from cpuid. NEUROKERN_ISA=scalar|avx2|avx512 (read
// once, at first use) or set_isa() forces a lower one, so tests can run every path on one machine.
// This is the one documented place where the library reads an environment variable.
#pragma once
#include <string>

namespace nk {

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2 };

Isa cpu_isa();                    // best ISA this CPU (and OS) supports
Isa active_isa();                 // the ISA kernels dispatch on now
void set_isa(Isa isa);            // throws ValueError if the CPU lacks it
const char* isa_name(Isa isa);
Isa parse_isa(const std::string& name);  // throws ValueError naming the accepted values

int num_threads();                // OpenMP threads kernels use
void set_num_threads(int n);      // throws ValueError for n < 1

}  // namespace nk
