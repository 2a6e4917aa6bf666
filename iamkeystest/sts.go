package iamkeystest

type xmlGetCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// opGetCallerIdentity answers STS GetCallerIdentity for the signing user.
func (s *Server) opGetCallerIdentity(c *call) (any, *apiError) {
	u := c.caller.owner
	return xmlGetCallerIdentityResult{Arn: u.arn(s.cfg.accountID), UserID: u.id, Account: s.cfg.accountID}, nil
}
