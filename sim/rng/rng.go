// Package rng derives the simulator's seeded random streams.
//
// Every purpose (arrivals, service times, network, faults, worker choice, ...) draws from
// its own stream, seeded from the run seed and the stream's name alone. Adding a stream,
// or drawing more from one, never shifts the values another stream produces, so a
// scenario change in one place does not reshuffle the whole run.
package rng

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// domain separates these seeds from any other use of SHA-256 over the same bytes, and
// versions the derivation: changing it changes every run's values.
const domain = "tasksim/rng/v1\x00"

// New returns the stream called name for the run seed. The same (seed, name) always gives
// the same sequence, on every platform and Go version whose math/rand/v2 PCG and Rand
// methods are unchanged (the package's golden test watches for that).
func New(seed uint64, name string) *rand.Rand {
	s1, s2 := Seeds(seed, name)
	return rand.New(rand.NewPCG(s1, s2))
}

// Seeds returns the two PCG seeds of the stream called name: the first 16 bytes of
// SHA-256(domain || seed, little-endian || name). A cryptographic hash is used for its
// fixed definition and avalanche, not for secrecy; it runs once per stream.
func Seeds(seed uint64, name string) (uint64, uint64) {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write([]byte(domain))
	h.Write(b[:])
	h.Write([]byte(name))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return binary.LittleEndian.Uint64(sum[0:8]), binary.LittleEndian.Uint64(sum[8:16])
}
