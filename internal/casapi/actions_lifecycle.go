package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// lifecycleActions returns the actions of this group: certificate lifecycle, status lookups, tags and resource groups.
func (a *API) lifecycleActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{
		"DeleteClientCertificate":                        a.deleteCert,
		"DescribeClientCertificateStatus":                a.describeStatus,
		"DescribeClientCertificateStatusForSerialNumber": a.describeStatusBySerial,
		"DescribeClientCertificateForSerialNumber":       a.describeBySerial,
		"ListClientCertificate":                          a.listClient,
		"ListRevokeCertificate":                          a.listRevoked,
		"UpdatePcaCertificate":                           a.updatePca,
		"UploadPcaCertToCas":                             a.upload,
		"DescribeCertificatePrivateKey":                  a.exportKey,
		"TagResources":                                   a.tagResources,
		"UntagResources":                                 a.untagResources,
		"ListTagResources":                               a.listTags,
		"MoveResourceGroup":                              a.moveResourceGroup,
	}
}
