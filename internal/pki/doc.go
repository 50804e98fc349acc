// Package pki holds the X.509 mechanics of pcad: key generation, serial
// numbers, subject and subject-alternative-name validation, validity windows,
// CSR checks, the issuance of root, subordinate, end-entity, custom
// (CreateCustomCertificate) and OCSP responder certificates, CRLs (CreateCRL:
// in one buffer of its exact size from a compact entry list, CRLEntries,
// about 26 bytes an entry; WriteCRL: written as a stream in constant
// memory at any size), and OCSP requests and responses.
//
// The package does no I/O of its own beyond reading the io.Reader it is given
// (and writing the CRL to the io.Writer WriteCRL is given):
// randomness and the current time are always passed in, and signing happens
// only through a crypto.Signer. It never calls time.Now.
//
// Errors a caller of the API caused are returned as *pca.Error values of kind
// KindInvalid or KindMissing whose Param is the API parameter name (for
// example "Domain", "Days" or "CommonName"). Anything else is an internal
// failure, returned as a plain error whose text starts with "pki: ".
//
// Issuance follows one rule: check before you sign, sign once, parse the
// issued DER again and compare it with the request. A mismatch is an internal
// error and the certificate is discarded.
package pki
