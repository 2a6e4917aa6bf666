package iamkeystest

type xmlGetCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// opGetCallerIdentity answers STS GetCallerIdentity for the signing user, or
// for an assumed-role session (docs/aws-services-reference.md §2.6).
func (s *Server) opGetCallerIdentity(c *call) (any, *apiError) {
	if se := s.sessionOf(c); se != nil {
		return xmlGetCallerIdentityResult{Arn: se.arn(), UserID: se.userID(), Account: s.cfg.accountID}, nil
	}
	u := c.caller.owner
	return xmlGetCallerIdentityResult{Arn: u.arn(s.cfg.accountID), UserID: u.id, Account: s.cfg.accountID}, nil
}
