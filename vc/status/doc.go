// Package status implements W3C Bitstring Status List v1.0
// (https://www.w3.org/TR/vc-bitstring-status-list/): the bitstring and its
// encodedList form, the BitstringStatusListEntry a credential carries in
// credentialStatus, the BitstringStatusListCredential that publishes a list,
// the check of an entry against a list, and an allocator that hands out
// random, never reused list indexes to an issuer.
//
// # Bitstring
//
// A List is a bitstring of at least MinBits (131,072) bits, a whole number
// of bytes. Index 0 is the left-most bit: bit i is in byte i/8 under the mask
// 0x80>>(i%8). An entry with a statusSize s > 1 occupies the s bits from
// index*s, read as an unsigned integer with its most significant bit first
// (left-most).
//
// The encodedList is the multibase base64url form ("u" prefix, RFC 4648 §5
// alphabet, no padding) of the GZIP (RFC 1952) of the bitstring. Decode is
// strict where the specification is: the "u" prefix is required, and padding,
// whitespace, characters outside the base64url alphabet and non-zero pad
// bits are rejected. @digitalbazaar/vc-bitstring-status-list 2.0.1 accepts
// "==" padding, line breaks and the standard "+/" alphabet through Node's
// lenient base64 decoder, but no conforming issuer, that library included,
// produces them, and the specification requires processors to reject
// non-conforming documents. Decompression stops after MaxBits/8 bytes, so a
// GZIP bomb costs at most that; an encodedList whose GZIP data is longer than
// any MaxBits list needs is refused before decoding.
//
// # Allocation
//
// Allocator hands out an issuer's indexes at random without reuse, as the
// specification recommends (§2.1, §6.5); its state is a bitmap of used
// indexes the issuer stores with the list. For a list of entries of s bits
// it allocates [0, Len()/s).
//
// # Entries
//
// statusListIndex must be a JSON string holding a base-10 integer >= 0 in
// canonical form, as the specification says and the W3C test suite checks
// (String(parseInt(x)) === x): "01", "+1", "-1", " 1" and JSON numbers are
// rejected. statusSize must be a JSON integer from 1 to MaxStatusSize;
// larger sizes are allowed by the specification but not supported here (a
// processor may support size 1 only). With statusSize > 1, statusMessage must
// list exactly 2^statusSize messages, one per value.
//
// # Errors
//
// Errors about malformed input (an encodedList, an entry, a status list
// credential) wrap vc.ErrMalformed; field-by-field problems are a
// *vc.InvalidError naming each member by its JSON Pointer. ErrListTooShort,
// ErrIndexRange and ErrMismatch mark the specification's
// STATUS_LIST_LENGTH_ERROR, RANGE_ERROR and STATUS_VERIFICATION_ERROR;
// ProblemType maps an error to the specification's problem type URL.
package status
