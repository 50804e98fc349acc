package pca

import "time"

// Account is a tenant. Every object belongs to exactly one account and no
// query crosses accounts.
type Account struct {
	ID      int64 // numeric UID
	Name    string
	Created time.Time
}

// Principal is an identity inside an account: the owner or a RAM user.
type Principal struct {
	ID          int64
	AccountID   int64
	Name        string
	Owner       bool
	DisplayName string
	Email       string
	MobilePhone string
	Comments    string
	Created     time.Time
	Updated     time.Time
}

// AccessKey is a credential of a principal. Secret is the clear secret; it
// exists only in memory and is stored encrypted.
type AccessKey struct {
	ID          string
	AccountID   int64
	PrincipalID int64
	Secret      string
	Active      bool
	Created     time.Time
}

// Subject holds the distinguished-name fields the API exposes.
type Subject struct {
	CommonName       string
	Organization     string
	OrganizationUnit string
	Locality         string
	State            string
	Country          string
}

// CA is a root or subordinate certificate authority.
type CA struct {
	ID                int64
	AccountID         int64
	Identifier        string
	ParentID          int64 // 0 for a root
	ParentIdentifier  string
	Type              CAType
	Status            Status
	Subject           Subject
	SubjectDN         string
	Algorithm         Algorithm
	KeyRef            string
	SerialNumber      string // lower-case hex
	DER               []byte
	NotBefore         time.Time
	NotAfter          time.Time
	Years             int
	PathLen           int
	ExtendedKeyUsages []string
	CertMaxTime       int // days; 0 = no limit beyond the CA's own validity
	EnableCRL         bool
	CRLDays           int
	ResourceGroupID   string
	Tags              []Tag
	// InstanceUUID is the CA's default instance: for a sub-CA the pool its
	// end-entity certificates draw on, for a root the pool of its sub-CAs.
	InstanceUUID string
	IssuerType   string // "local", or "external" when the key is held outside pcad
	AliasName    string
	RevokedAt    time.Time
	Created      time.Time
}

// Instance is an end-entity quota pool bound to one sub-CA.
type Instance struct {
	ID         int64
	AccountID  int64
	UUID       string
	CAID       int64
	TotalCount int64 // 0 = unlimited
	Issued     int64
}

// Certificate is an end-entity certificate and its inventory record.
type Certificate struct {
	ID               int64
	AccountID        int64
	Identifier       string
	CAID             int64
	ParentIdentifier string
	InstanceID       int64
	InstanceUUID     string
	Type             CertType
	Status           Status
	Subject          Subject
	SubjectDN        string
	SANs             []SAN
	Algorithm        Algorithm // exact algorithm (e.g. RSA_2048)
	SerialNumber     string    // lower-case hex, no separators
	DER              []byte
	NotBefore        time.Time
	NotAfter         time.Time
	KeyRef           string // set when the service generated and holds the key
	AliasName        string
	CustomIdentifier string
	Extra            string
	ResourceGroupID  string
	Tags             []Tag
	RevokedAt        time.Time
	RevokeReason     RevocationReason
	Uploaded         bool // UploadPcaCertToCas was called for it
	Created          time.Time
	Changed          time.Time // last change: issue, revoke, alias/tag update
}

// SANType numbers follow the API's Sans JSON: 1 email, 2 DNS, 6 URI, 7 IP.
type SANType int

// SAN types.
const (
	SANEmail SANType = 1
	SANDNS   SANType = 2
	SANURI   SANType = 6
	SANIP    SANType = 7
)

// SAN is one subject alternative name.
type SAN struct {
	Type  SANType `json:"Type"`
	Value string  `json:"Value"`
}
