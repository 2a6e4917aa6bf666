package iamkeystest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// Seeding and inspecting a user's dependents: what IAM's DeleteUser refuses
// to delete while it remains. Seeding follows the rules of the matching
// request (quotas, duplicates) and makes no events.

// Dependents describes what a user holds besides its access keys and inline
// policies. Lists are sorted.
type Dependents struct {
	LoginProfile        bool     // a console password is set
	AttachedPolicies    []string // managed policy ARNs
	Groups              []string // group names
	MFADevices          []string // serial numbers
	SSHPublicKeys       []string // SSH public key IDs
	SigningCertificates []string // certificate IDs
	ServiceCredentials  []string // service-specific credential IDs
}

// Empty reports whether d holds nothing.
func (d Dependents) Empty() bool {
	return !d.LoginProfile && len(d.AttachedPolicies)+len(d.Groups)+len(d.MFADevices)+
		len(d.SSHPublicKeys)+len(d.SigningCertificates)+len(d.ServiceCredentials) == 0
}

// withUser runs f with s.mu held on the user named name.
func (s *Server) withUser(name string, f func(u *user) *apiError) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUser(name)
	if u == nil {
		return seedError(noSuchUser(name))
	}
	return seedError(f(u))
}

// AddLoginProfile gives the user a console password, created now, as
// CreateLoginProfile would. A second one is EntityAlreadyExists.
func (s *Server) AddLoginProfile(userName string) error {
	return s.withUser(userName, func(u *user) *apiError {
		if u.login != nil {
			return newError(iamerr.EntityAlreadyExists, "Login Profile for user "+u.name+" already exists.")
		}
		u.login = &loginProfile{created: s.now()}
		return nil
	})
}

// AddManagedPolicy creates a customer managed policy named name at path "/"
// and returns its ARN, arn:aws:iam::<account>:policy/<name>. AWS managed
// policies such as arn:aws:iam::aws:policy/ReadOnlyAccess exist already.
// The server keeps no document: policies are not evaluated.
func (s *Server) AddManagedPolicy(name string) (string, error) {
	var v validator
	v.policyName(name)
	if e := v.err(); e != nil {
		return "", seedError(e)
	}
	arn := "arn:aws:iam::" + s.cfg.accountID + ":policy/" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deps.policies[arn] {
		return "", seedError(newError(iamerr.EntityAlreadyExists, "A policy called "+name+" already exists. Duplicate names are not allowed."))
	}
	if s.deps.policies == nil {
		s.deps.policies = map[string]bool{}
	}
	s.deps.policies[arn] = true
	return arn, nil
}

// AttachPolicy attaches the managed policy to the user, under the rules of
// AttachUserPolicy: the policy must exist, and a user holds at most 10.
func (s *Server) AttachPolicy(userName, policyARN string) error {
	return s.withUser(userName, func(u *user) *apiError {
		switch {
		case !s.policyExists(policyARN):
			return newError(iamerr.NoSuchEntity, "Policy "+policyARN+" does not exist or is not attachable.")
		case slices.Contains(u.attached, policyARN):
			return nil
		case len(u.attached) >= maxAttachedPerUser:
			return newError(iamerr.LimitExceeded, "Cannot exceed quota for PoliciesPerUser: "+strconv.Itoa(maxAttachedPerUser))
		}
		u.attached = append(u.attached, policyARN)
		return nil
	})
}

// AddGroup creates a group at path "/".
func (s *Server) AddGroup(name string) error {
	var v validator
	v.policyName(name) // groupNameType has the same length and pattern
	if e := v.err(); e != nil {
		return seedError(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, e := s.createGroup(name, "/")
	return seedError(e)
}

// AddUserToGroup makes the user a member of the group, which must exist.
func (s *Server) AddUserToGroup(userName, groupName string) error {
	return s.withUser(userName, func(u *user) *apiError {
		g := s.lookupGroup(groupName)
		if g == nil {
			return noSuchGroup(groupName)
		}
		_, e := addToGroup(u, g)
		return e
	})
}

// AddMFADevice assigns the user an MFA device enabled now and returns its
// serial number: for a virtual device its ARN,
// arn:aws:iam::<account>:mfa/<user>-<n>, which stays in the account once
// deactivated until DeleteVirtualMFADevice; for a hardware TOTP token a
// plain serial, which deactivation removes. A user holds at most 8.
func (s *Server) AddMFADevice(userName string, virtual bool) (string, error) {
	var serial string
	err := s.withUser(userName, func(u *user) *apiError {
		if len(u.mfa) >= maxMFAPerUser {
			return newError(iamerr.LimitExceeded, "Cannot exceed quota for MFADevicesPerUser: "+strconv.Itoa(maxMFAPerUser))
		}
		s.deps.seq++
		d := &mfaDevice{virtual: virtual, owner: u, enabled: s.now()}
		if virtual {
			d.serial = fmt.Sprintf("arn:aws:iam::%s:mfa/%s-%d", s.cfg.accountID, u.name, s.deps.seq)
			if s.deps.virtualMFA == nil {
				s.deps.virtualMFA = map[string]*mfaDevice{}
			}
			s.deps.virtualMFA[d.serial] = d
		} else {
			d.serial = fmt.Sprintf("GAHT%08d", s.deps.seq)
		}
		u.mfa = append(u.mfa, d)
		serial = d.serial
		return nil
	})
	return serial, err
}

// VirtualMFADevices returns the serial numbers of every virtual MFA device in
// the account, assigned or not, sorted.
func (s *Server) VirtualMFADevices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.deps.virtualMFA))
	for serial := range s.deps.virtualMFA {
		out = append(out, serial)
	}
	sort.Strings(out)
	return out
}

// SSHPublicKeyBody returns an ssh-rsa public key body that
// UploadSSHPublicKey accepts, different for each n: a 2048-bit modulus
// derived from n. It is not a usable RSA key (the server checks only the
// encoding and the size), so tests need no key generation.
func SSHPublicKeyBody(n int) string {
	mod := new(big.Int).Lsh(big.NewInt(1), 2047)
	mod.Add(mod, big.NewInt(int64(2*n+1)))
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(sshRSABlob(65537, mod)) + " iamkeystest-" + strconv.Itoa(n)
}

// AddSSHPublicKey uploads an SSH public key (a fresh SSHPublicKeyBody) for
// the user and returns its ID. A user holds at most 5.
func (s *Server) AddSSHPublicKey(userName string) (string, error) {
	var id string
	err := s.withUser(userName, func(u *user) *apiError {
		k, e := s.uploadSSHKey(u, SSHPublicKeyBody(s.deps.seq+1))
		if e == nil {
			id = k.id
		}
		return e
	})
	return id, err
}

// SigningCertificatePEM returns a fresh self-signed X.509 certificate in PEM
// form that UploadSigningCertificate accepts (an ECDSA P-256 key, whose
// private half is discarded).
func SigningCertificatePEM() (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "iamkeystest"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// AddSigningCertificate uploads a fresh signing certificate for the user
// and returns its ID. A user holds at most 2.
func (s *Server) AddSigningCertificate(userName string) (string, error) {
	body, err := SigningCertificatePEM()
	if err != nil {
		return "", err
	}
	var id string
	err = s.withUser(userName, func(u *user) *apiError {
		k, e := s.uploadCert(u, body)
		if e == nil {
			id = k.id
		}
		return e
	})
	return id, err
}

// AddServiceCredential creates a service-specific credential for the user
// and service ("codecommit.amazonaws.com" or "cassandra.amazonaws.com") and
// returns its ID; the password is not kept. A user holds at most 2 per
// service.
func (s *Server) AddServiceCredential(userName, service string) (string, error) {
	var id string
	err := s.withUser(userName, func(u *user) *apiError {
		k, _, e := s.createServiceCred(u, service)
		if e == nil {
			id = k.id
		}
		return e
	})
	return id, err
}

// Dependents returns what the user holds besides access keys and inline
// policies, and false for an unknown user.
func (s *Server) Dependents(userName string) (Dependents, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUser(userName)
	if u == nil {
		return Dependents{}, false
	}
	d := Dependents{LoginProfile: u.login != nil, AttachedPolicies: slices.Clone(u.attached)}
	for _, g := range u.groups {
		d.Groups = append(d.Groups, g.name)
	}
	for _, m := range u.mfa {
		d.MFADevices = append(d.MFADevices, m.serial)
	}
	for _, k := range u.sshKeys {
		d.SSHPublicKeys = append(d.SSHPublicKeys, k.id)
	}
	for _, k := range u.certs {
		d.SigningCertificates = append(d.SigningCertificates, k.id)
	}
	for _, k := range u.svcCreds {
		d.ServiceCredentials = append(d.ServiceCredentials, k.id)
	}
	for _, l := range [][]string{d.AttachedPolicies, d.Groups, d.MFADevices, d.SSHPublicKeys, d.SigningCertificates, d.ServiceCredentials} {
		sort.Strings(l)
	}
	return d, true
}
