"""Awkward sizes shared by kernel tests: 1, primes, and sizes that are not multiples of the SIMD
width (8 floats for AVX2, 16 for AVX-512) or of the GEMM tiles, both below and above them."""

SIZES = [1, 7, 16, 33, 257]
# (M, N, K) triples for matrix products: tiny, prime, tails in every dimension, one MLP shape.
GEMM_SHAPES = [
    (1, 1, 1), (1, 7, 33), (7, 1, 33), (7, 33, 1), (33, 7, 257), (257, 33, 7),
    (16, 16, 16), (31, 65, 17), (97, 130, 61), (64, 512, 784), (257, 257, 257),
]
# elementwise lengths, chosen to hit the vector body, the tail and the parallel split
LENGTHS = [1, 7, 15, 16, 17, 33, 257, 1000, 70001]
