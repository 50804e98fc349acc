// Package openapi implements the Alibaba Cloud RPC protocol that the cas
// 2020-06-30 API speaks, so that the official SDKs can talk to pcad unchanged.
// It knows no certificates: it decodes a request, authenticates it, throttles
// it, calls the action's HandlerFunc and writes the envelope.
//
// # Requests
//
// One endpoint, path "/", GET and POST. Parameters come from the URL query
// and, when Content-Type is application/x-www-form-urlencoded, from the body;
// on a name present in both the body wins (see Params). The raw body is read
// first (at most Config.MaxBodyBytes) because V3 signs its exact bytes.
//
// # Signatures
//
// An Authorization header starting with "ACS3-" selects V3: only
// ACS3-HMAC-SHA256 is accepted (ACS3-HMAC-SM3 and ACS3-RSA-SHA256 are refused
// with IncompleteSignature). The headers named in SignedHeaders are
// canonicalised as received; host, x-acs-action, x-acs-version, x-acs-date,
// x-acs-signature-nonce and x-acs-content-sha256 must be among them, and so
// must content-type when a form body is sent. x-acs-content-sha256 must equal
// the SHA-256 of the body.
//
// Otherwise a Signature parameter selects V1 (HMAC-SHA1, SignatureVersion
// 1.0) over all query and body parameters. A request with neither answers
// MissingParameter. STS tokens (x-acs-security-token, SecurityToken) are not
// supported yet and answer InvalidSecurityToken.Malformed.
//
// Timestamps (x-acs-date, Timestamp) are RFC 3339, normally
// yyyy-MM-ddTHH:mm:ssZ, and must be within TimestampWindow of the server's
// clock. Nonces are remembered per AccessKeyId for NonceTTL, and only after
// the signature has been verified, so unauthenticated requests cannot fill
// the cache or burn another key's nonces.
//
// # Responses
//
// Success is HTTP 200 with the handler's JSON object, "RequestId" first.
// Errors are always 4xx/5xx (the SDKs read any other status as success) with
// {"RequestId","HostId","Code","Message","Recommend"}; codes and statuses
// come from the single table in errors.go. XML is used only for V1 requests
// with Format=XML (case-insensitive), with Content-Type exactly
// "text/xml;charset=utf-8"; errors raised before the signature mode is known
// are always JSON. Every response carries the x-acs-request-id header, and,
// when a Limiter is configured and consulted, x-ratelimit-user-api
// "Limit:<n>,Remain:<n>,TimeLeft:<ms>".
package openapi
