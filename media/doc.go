// Package media holds the audio building blocks that the softphone and the load generator share:
// tone generation, Goertzel tone detection, audio level metering, WAV files of 8 kHz 16-bit mono
// PCM, G.711 (µ-law and A-law) coding and RTP receive statistics (RFC 3550 loss and interarrival
// jitter).
//
// It knows nothing about SIP or about any RTP stack: callers feed it samples and packet headers.
// Samples are signed 16-bit linear PCM; levels are in dBFS, where 0 dBFS is a full-scale sine
// (peak amplitude 32767).
package media

// SampleRate is the sampling rate of narrowband telephony (G.711), in hertz.
const SampleRate = 8000

// FullScale is the largest magnitude of a 16-bit sample; a sine of this peak amplitude is 0 dBFS.
const FullScale = 32767.0
