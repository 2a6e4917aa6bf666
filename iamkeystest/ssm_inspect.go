package iamkeystest

// ParameterValue returns the plaintext value of parameter name's version
// that carries label, or of its latest version when label is "", without a
// request: for invariant checkers that must read the truth without faults
// or latency. ok is false when the parameter or the label is missing.
func (s *Server) ParameterValue(name, label string) (value string, version int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.ssm.params[name]
	if p == nil {
		return "", 0, false
	}
	v := p.latest()
	if label != "" {
		v = p.labelled(label)
	}
	if v == nil {
		return "", 0, false
	}
	return v.value, v.version, true
}
