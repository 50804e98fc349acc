// Package archtest holds only a test: it checks the layering rules of
// DESIGN.md against the real import graph.
package archtest
