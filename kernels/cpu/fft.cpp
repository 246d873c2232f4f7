// placeholder: replaced by the FFTW implementation
#include <stdexcept>
#include "convbench/cpu_algorithms.hpp"
namespace convbench {
std::unique_ptr<Algorithm> make_cpu_fft(const AlgoOptions&) { throw std::runtime_error("cpu.fft: not implemented"); }
}
