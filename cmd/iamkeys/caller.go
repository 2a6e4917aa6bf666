package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// callerAccount returns the account ID of cfg's credentials, with one STS
// GetCallerIdentity.
func callerAccount(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("reading the caller's account (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(out.Account), nil
}

// trimPrefix is err's message without the library's "iamkeys: " prefix,
// for a usage message that names the flag's meaning.
func trimPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "iamkeys: ")
}
