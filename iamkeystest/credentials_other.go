package iamkeystest

import (
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// A user's credentials other than access keys and the password: SSH public
// keys (for CodeCommit), X.509 signing certificates and service-specific
// credentials, each uploaded or created, listed and deleted. Shapes and
// constraints are the API model's (SDK iam@v1.65.0); IAM's error texts for
// them are not recorded, so the messages below follow its other operations'.

// credentialID is the pattern of SSHPublicKeyId, CertificateId and
// ServiceSpecificCredentialId.
var credentialID = regexp.MustCompile(`^\w+$`)

// credentialBody validates an SSHPublicKeyBody or CertificateBody: 1–16384
// characters of [\t\n\r\x20-\xFF].
func (v *validator) credentialBody(c *call, param, field string) string {
	body := c.form.Get(param)
	if v.required(c, param, field) && v.length(field, body, 1, 16384) {
		for _, r := range body {
			if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
				v.add(field, `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
				break
			}
		}
	}
	return body
}

// credentialIDParam validates an ID parameter of min–128 word characters.
func (v *validator) credentialIDParam(c *call, param, field string, min int) string {
	id := c.form.Get(param)
	if v.required(c, param, field) && v.length(field, id, min, 128) {
		v.pattern(field, id, credentialID)
	}
	return id
}

// --- SSH public keys ---

type xmlSSHPublicKey struct {
	UserName         string `xml:"UserName"`
	SSHPublicKeyID   string `xml:"SSHPublicKeyId"`
	Fingerprint      string `xml:"Fingerprint,omitempty"`
	SSHPublicKeyBody string `xml:"SSHPublicKeyBody,omitempty"`
	Status           string `xml:"Status"`
	UploadDate       string `xml:"UploadDate"`
}

type xmlUploadSSHPublicKeyResult struct {
	SSHPublicKey xmlSSHPublicKey `xml:"SSHPublicKey"`
}

type xmlListSSHPublicKeysResult struct {
	SSHPublicKeys xmlSSHPublicKeyList `xml:"SSHPublicKeys"`
	IsTruncated   bool                `xml:"IsTruncated"`
	Marker        string              `xml:"Marker,omitempty"`
}

type xmlSSHPublicKeyList struct {
	Members []xmlSSHPublicKey `xml:"member"`
}

// parseSSHPublicKey reads an RSA public key "in ssh-rsa format or PEM
// format" of at least 2048 bits (API reference, UploadSSHPublicKey) and
// returns its MD5 fingerprint in colon-separated hex.
func parseSSHPublicKey(body string) (string, *apiError) {
	var pub *rsa.PublicKey
	switch trimmed := strings.TrimSpace(body); {
	case strings.HasPrefix(trimmed, "ssh-rsa "):
		fields := strings.Fields(trimmed)
		blob, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return "", invalidPublicKey()
		}
		if pub = parseSSHRSABlob(blob); pub == nil {
			return "", invalidPublicKey()
		}
	case strings.HasPrefix(trimmed, "-----BEGIN"):
		block, _ := pem.Decode([]byte(trimmed))
		if block == nil {
			return "", invalidPublicKey()
		}
		var ok bool
		if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
			pub, ok = k.(*rsa.PublicKey)
		} else if k, err := x509.ParsePKCS1PublicKey(block.Bytes); err == nil {
			pub, ok = k, true
		}
		if !ok {
			return "", invalidPublicKey()
		}
	default:
		return "", newError(iamerr.UnrecognizedPublicKeyEncoding, "The public key encoding format is unsupported or unrecognized.")
	}
	if pub.N.BitLen() < 2048 {
		return "", invalidPublicKey()
	}
	sum := md5.Sum(sshRSABlob(pub.E, pub.N))
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(hexes, ":"), nil
}

func invalidPublicKey() *apiError {
	return newError(iamerr.InvalidPublicKey, "The public key is malformed or otherwise invalid.")
}

// parseSSHRSABlob decodes the SSH wire form of an RSA key: the string
// "ssh-rsa", then the exponent and the modulus as mpints (RFC 4253 §6.6).
func parseSSHRSABlob(blob []byte) *rsa.PublicKey {
	var parts [3][]byte
	for i := range parts {
		if len(blob) < 4 {
			return nil
		}
		n := binary.BigEndian.Uint32(blob)
		if uint64(n) > uint64(len(blob)-4) {
			return nil
		}
		parts[i], blob = blob[4:4+n], blob[4+n:]
	}
	e := new(big.Int).SetBytes(parts[1])
	if string(parts[0]) != "ssh-rsa" || len(blob) != 0 || !e.IsInt64() || e.Int64() < 3 {
		return nil
	}
	return &rsa.PublicKey{E: int(e.Int64()), N: new(big.Int).SetBytes(parts[2])}
}

// sshRSABlob encodes an RSA key in the SSH wire form.
func sshRSABlob(e int, n *big.Int) []byte {
	var out []byte
	put := func(b []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	mpint := func(x *big.Int) []byte {
		b := x.Bytes()
		if len(b) > 0 && b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	put([]byte("ssh-rsa"))
	put(mpint(big.NewInt(int64(e))))
	put(mpint(n))
	return out
}

// uploadSSHKey adds an SSH public key to u. Callers hold s.mu.
func (s *Server) uploadSSHKey(u *user, body string) (*sshKey, *apiError) {
	fp, e := parseSSHPublicKey(body)
	if e != nil {
		return nil, e
	}
	if slices.ContainsFunc(u.sshKeys, func(k *sshKey) bool { return k.fingerprint == fp }) {
		return nil, newError(iamerr.DuplicateSSHPublicKey, "The SSH public key is already associated with the specified IAM user.")
	}
	if len(u.sshKeys) >= maxSSHKeysPerUser {
		return nil, newError(iamerr.LimitExceeded, "Cannot exceed quota for KeysPerUser: "+strconv.Itoa(maxSSHKeysPerUser))
	}
	k := &sshKey{id: s.newDepID("APKA", 16), body: body, fingerprint: fp, status: statusActive, uploaded: s.now()}
	u.sshKeys = append(u.sshKeys, k)
	return k, nil
}

func (s *Server) opUploadSSHPublicKey(c *call) (any, *apiError) {
	var v validator
	body := v.credentialBody(c, "SSHPublicKeyBody", "sSHPublicKeyBody")
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	k, e := s.uploadSSHKey(u, body)
	if e != nil {
		return nil, e
	}
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: k.id})
	return xmlUploadSSHPublicKeyResult{SSHPublicKey: xmlSSHPublicKey{
		UserName: u.name, SSHPublicKeyID: k.id, Fingerprint: k.fingerprint, SSHPublicKeyBody: k.body,
		Status: k.status, UploadDate: isoTime(k.uploaded),
	}}, nil
}

func (s *Server) opListSSHPublicKeys(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	pr := readPageRequest(c, &v)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	keys := sortedByID(u.sshKeys, func(k *sshKey) string { return k.id })
	p := pr.page(len(keys), func(i int) string { return keys[i].id })
	res := xmlListSSHPublicKeysResult{IsTruncated: p.truncated, Marker: p.marker}
	res.SSHPublicKeys.Members = []xmlSSHPublicKey{}
	for _, k := range keys[p.start:p.end] {
		res.SSHPublicKeys.Members = append(res.SSHPublicKeys.Members, xmlSSHPublicKey{UserName: u.name, SSHPublicKeyID: k.id, Status: k.status, UploadDate: isoTime(k.uploaded)})
	}
	return res, nil
}

func (s *Server) opDeleteSSHPublicKey(c *call) (any, *apiError) {
	var v validator
	id := v.credentialIDParam(c, "SSHPublicKeyId", "sSHPublicKeyId", 20)
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(u.sshKeys, func(k *sshKey) bool { return k.id == id })
	if i < 0 {
		return nil, newError(iamerr.NoSuchEntity, "The Public Key with id "+id+" cannot be found.")
	}
	u.sshKeys = slices.Delete(u.sshKeys, i, i+1)
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: id})
	return nil, nil
}

// sortedByID returns items ordered by their IDs.
func sortedByID[T any](items []T, id func(T) string) []T {
	out := slices.Clone(items)
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(id(a), id(b)) })
	return out
}

// --- signing certificates ---

type xmlSigningCertificate struct {
	UserName        string `xml:"UserName"`
	CertificateID   string `xml:"CertificateId"`
	CertificateBody string `xml:"CertificateBody"`
	Status          string `xml:"Status"`
	UploadDate      string `xml:"UploadDate"`
}

type xmlUploadSigningCertificateResult struct {
	Certificate xmlSigningCertificate `xml:"Certificate"`
}

type xmlListSigningCertificatesResult struct {
	Certificates xmlSigningCertificateList `xml:"Certificates"`
	IsTruncated  bool                      `xml:"IsTruncated"`
	Marker       string                    `xml:"Marker,omitempty"`
}

type xmlSigningCertificateList struct {
	Members []xmlSigningCertificate `xml:"member"`
}

func (s *Server) xmlOfCert(u *user, k *signingCert) xmlSigningCertificate {
	return xmlSigningCertificate{UserName: u.name, CertificateID: k.id, CertificateBody: k.body, Status: k.status, UploadDate: isoTime(k.uploaded)}
}

// uploadCert adds a signing certificate, a PEM X.509 certificate, to u.
// Callers hold s.mu.
func (s *Server) uploadCert(u *user, body string) (*signingCert, *apiError) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(body)))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, newError(iamerr.MalformedCertificate, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return nil, newError(iamerr.MalformedCertificate, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	if slices.ContainsFunc(u.certs, func(k *signingCert) bool { return strings.TrimSpace(k.body) == strings.TrimSpace(body) }) {
		return nil, newError(iamerr.DuplicateCertificate, "The certificate already exists for this user.")
	}
	if len(u.certs) >= maxCertsPerUser {
		return nil, newError(iamerr.LimitExceeded, "Cannot exceed quota for CertificatesPerUser: "+strconv.Itoa(maxCertsPerUser))
	}
	k := &signingCert{id: s.newDepID("CERT", 24), body: body, status: statusActive, uploaded: s.now()}
	u.certs = append(u.certs, k)
	return k, nil
}

func (s *Server) opUploadSigningCertificate(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	body := v.credentialBody(c, "CertificateBody", "certificateBody")
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	k, e := s.uploadCert(u, body)
	if e != nil {
		return nil, e
	}
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: k.id})
	return xmlUploadSigningCertificateResult{Certificate: s.xmlOfCert(u, k)}, nil
}

func (s *Server) opListSigningCertificates(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	pr := readPageRequest(c, &v)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	certs := sortedByID(u.certs, func(k *signingCert) string { return k.id })
	p := pr.page(len(certs), func(i int) string { return certs[i].id })
	res := xmlListSigningCertificatesResult{IsTruncated: p.truncated, Marker: p.marker}
	res.Certificates.Members = []xmlSigningCertificate{}
	for _, k := range certs[p.start:p.end] {
		res.Certificates.Members = append(res.Certificates.Members, s.xmlOfCert(u, k))
	}
	return res, nil
}

func (s *Server) opDeleteSigningCertificate(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	id := v.credentialIDParam(c, "CertificateId", "certificateId", 24)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(u.certs, func(k *signingCert) bool { return k.id == id })
	if i < 0 {
		return nil, newError(iamerr.NoSuchEntity, "The Certificate with id "+id+" cannot be found.")
	}
	u.certs = slices.Delete(u.certs, i, i+1)
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: id})
	return nil, nil
}

// --- service-specific credentials ---

// credentialServices are the services whose service-specific credentials
// are a user name and password (IAM User Guide, id_credentials_ssh-keys and
// Keyspaces). Bedrock's API keys, with an alias and secret, are not served.
var credentialServices = []string{"codecommit.amazonaws.com", "cassandra.amazonaws.com"}

type xmlServiceSpecificCredential struct {
	CreateDate                  string `xml:"CreateDate"`
	ServiceName                 string `xml:"ServiceName"`
	ServiceUserName             string `xml:"ServiceUserName"`
	ServicePassword             string `xml:"ServicePassword,omitempty"`
	ServiceSpecificCredentialID string `xml:"ServiceSpecificCredentialId"`
	UserName                    string `xml:"UserName"`
	Status                      string `xml:"Status"`
}

type xmlCreateServiceSpecificCredentialResult struct {
	ServiceSpecificCredential xmlServiceSpecificCredential `xml:"ServiceSpecificCredential"`
}

type xmlListServiceSpecificCredentialsResult struct {
	ServiceSpecificCredentials xmlServiceSpecificCredentialList `xml:"ServiceSpecificCredentials"`
	IsTruncated                bool                             `xml:"IsTruncated"`
	Marker                     string                           `xml:"Marker,omitempty"`
}

type xmlServiceSpecificCredentialList struct {
	Members []xmlServiceSpecificCredential `xml:"member"`
}

func (s *Server) xmlOfServiceCred(u *user, k *serviceCred) xmlServiceSpecificCredential {
	return xmlServiceSpecificCredential{
		CreateDate: isoTime(k.created), ServiceName: k.service, ServiceUserName: k.serviceUser,
		ServiceSpecificCredentialID: k.id, UserName: u.name, Status: k.status,
	}
}

// createServiceCred adds a credential for service to u and returns it with
// its password, which is not kept. Callers hold s.mu.
func (s *Server) createServiceCred(u *user, service string) (*serviceCred, string, *apiError) {
	if !slices.Contains(credentialServices, service) {
		return nil, "", newError(iamerr.NotSupportedService, "No such service "+service+" is supported for Service-Specific Credentials")
	}
	n := 0
	for _, k := range u.svcCreds {
		if k.service == service {
			n++
		}
	}
	if n >= maxSvcCredsPerUserSv {
		return nil, "", newError(iamerr.LimitExceeded, "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "+strconv.Itoa(maxSvcCredsPerUserSv))
	}
	k := &serviceCred{
		id:          s.newDepID("ACCA", 17),
		service:     service,
		serviceUser: u.name + "-at-" + s.cfg.accountID,
		status:      statusActive,
		created:     s.now(),
	}
	u.svcCreds = append(u.svcCreds, k)
	return k, newSecret(), nil
}

func (s *Server) opCreateServiceSpecificCredential(c *call) (any, *apiError) {
	var v validator
	service := c.form.Get("ServiceName")
	v.required(c, "ServiceName", "serviceName")
	u, e := s.requireUser(c, &v)
	if e != nil {
		return nil, e
	}
	k, password, e := s.createServiceCred(u, service)
	if e != nil {
		return nil, e
	}
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: k.id})
	x := s.xmlOfServiceCred(u, k)
	x.ServicePassword = password
	return xmlCreateServiceSpecificCredentialResult{ServiceSpecificCredential: x}, nil
}

func (s *Server) opListServiceSpecificCredentials(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	pr := readPageRequest(c, &v)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	var creds []*serviceCred
	for _, k := range sortedByID(u.svcCreds, func(k *serviceCred) string { return k.id }) {
		if !c.has("ServiceName") || k.service == c.form.Get("ServiceName") {
			creds = append(creds, k)
		}
	}
	p := pr.page(len(creds), func(i int) string { return creds[i].id })
	res := xmlListServiceSpecificCredentialsResult{IsTruncated: p.truncated, Marker: p.marker}
	res.ServiceSpecificCredentials.Members = []xmlServiceSpecificCredential{}
	for _, k := range creds[p.start:p.end] {
		res.ServiceSpecificCredentials.Members = append(res.ServiceSpecificCredentials.Members, s.xmlOfServiceCred(u, k))
	}
	return res, nil
}

func (s *Server) opDeleteServiceSpecificCredential(c *call) (any, *apiError) {
	var v validator
	optionalUser(c, &v)
	id := v.credentialIDParam(c, "ServiceSpecificCredentialId", "serviceSpecificCredentialId", 20)
	u, e := s.dependentOwner(c, &v)
	if e != nil {
		return nil, e
	}
	i := slices.IndexFunc(u.svcCreds, func(k *serviceCred) bool { return k.id == id })
	if i < 0 {
		return nil, newError(iamerr.NoSuchEntity, "No such credential "+id+" exists")
	}
	u.svcCreds = slices.Delete(u.svcCreds, i, i+1)
	s.emit(c, Event{Action: c.action, UserName: u.name, Target: id})
	return nil, nil
}
