package iamkeystest

// SecretString returns the string value of the version of secret id (a name
// or ARN) that carries the staging label stage, such as "AWSCURRENT", and
// that version's ID, without a request: for invariant checkers that must
// read the truth without faults, latency or a last-accessed date. ok is
// false when the secret, the label or a string value is missing.
func (s *Server) SecretString(id, stage string) (value, versionID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, e := s.findSecret(id)
	if e != nil {
		return "", "", false
	}
	v := sec.holder(stage)
	if v == nil || v.str == nil {
		return "", "", false
	}
	return *v.str, v.id, true
}
