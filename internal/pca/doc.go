// Package pca is the domain vocabulary of pcad: identifiers, certificate and CA
// records, statuses, key algorithms and the error kinds every layer shares.
//
// It imports only the standard library. Nothing here does I/O.
package pca
