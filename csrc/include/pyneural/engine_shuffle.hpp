// NumPy's legacy shuffle: numpy.random.RandomState(seed).permutation(m), bit for bit.
//
// RandomState(int) seeds MT19937 with init_genrand (mt19937_seed); permutation(m) shuffles
// arange(m) with Fisher-Yates from i = m-1 down to 1, j = random_interval(i): draws masked
// to the smallest 2^k - 1 >= i, rejected while > i (32-bit draws for i <= 0xffffffff, else
// 64-bit draws made of two 32-bit ones, high word first).
#pragma once

#include <cstdint>

#include "common.hpp"

namespace pyneural {

class MT19937 {
public:
    static constexpr int kN = 624, kM = 397;

    // init_genrand(seed), as numpy's mt19937_seed; the first draw regenerates the state.
    void seed(std::uint32_t s) {
        key_[0] = s;
        for (int i = 1; i < kN; ++i) {
            s = 1812433253u * (s ^ (s >> 30)) + std::uint32_t(i);
            key_[i] = s;
        }
        pos_ = kN;
    }

    std::uint32_t next32() {
        if (pos_ == kN) generate();
        std::uint32_t y = key_[pos_++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    std::uint64_t next64() {
        const std::uint64_t hi = next32();
        return (hi << 32) | next32();
    }

    // A value in [0, max], as numpy's random_interval.
    std::uint64_t interval(std::uint64_t max) {
        if (max == 0) return 0;
        std::uint64_t mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        mask |= mask >> 32;
        std::uint64_t v;
        if (max <= 0xffffffffu) {
            while ((v = (next32() & mask)) > max) {
            }
        } else {
            while ((v = (next64() & mask)) > max) {
            }
        }
        return v;
    }

private:
    void generate() {
        constexpr std::uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
        int i = 0;
        for (; i < kN - kM; ++i) {
            const std::uint32_t y = (key_[i] & upper) | (key_[i + 1] & lower);
            key_[i] = key_[i + kM] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
        }
        for (; i < kN - 1; ++i) {
            const std::uint32_t y = (key_[i] & upper) | (key_[i + 1] & lower);
            key_[i] = key_[i + (kM - kN)] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
        }
        const std::uint32_t y = (key_[kN - 1] & upper) | (key_[0] & lower);
        key_[kN - 1] = key_[kM - 1] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
        pos_ = 0;
    }

    std::uint32_t key_[kN];
    int pos_ = kN;
};

// perm[0..m) = RandomState(seed).permutation(m).
inline void legacy_permutation(MT19937& rng, std::uint32_t seed, std::int64_t* perm, idx m) {
    rng.seed(seed);
    for (idx i = 0; i < m; ++i) perm[i] = i;
    for (idx i = m - 1; i >= 1; --i) {
        const idx j = idx(rng.interval(std::uint64_t(i)));
        const std::int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

}  // namespace pyneural
