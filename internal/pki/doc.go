// Package pki holds the X.509 mechanics of pcad: key generation, serial
// numbers, subject and subject-alternative-name validation, validity windows,
// and the issuance of root, subordinate and end-entity certificates.
//
// The package does no I/O of its own beyond reading the io.Reader it is given:
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
