// Command iamfake serves the in-memory IAM endpoint of package iamkeystest
// on a local address until interrupted.
//
// Usage:
//
//	iamfake [-addr 127.0.0.1:4566] [-account 123456789012] [-accounts 1]
//
// With -accounts N above 1 it serves an AWS organization of N accounts on
// the one address (see iamkeystest.Org): the management account (ID
// 111111111111, or -account) and members 200000000001 and on, each with
// OrganizationAccountAccessRole. The credentials printed are the
// management account admin's; a comment line names each account.
//
// It prints shell export lines with the endpoint URL and the credentials of
// the bootstrap admin user; evaluate them to point the AWS CLI or an SDK at
// the fake. The secret is a throwaway made up at start.
//
// AWS_ENDPOINT_URL is read only by the AWS CLI from 2.13 and botocore (so
// boto3) from 1.31; older ones ignore it and would call the real IAM. For
// them the output also has comment lines with the --endpoint-url and
// endpoint_url forms. Every line is an export or a # comment, so the output
// can be sourced by a shell.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// printEnv writes the lines a shell sources to use the fake at url with the
// admin's credentials. The export of AWS_REGION comes last: scripts wait for
// it to know the output is complete.
func printEnv(w io.Writer, url, keyID, secret string) {
	fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=%s\n", keyID)
	fmt.Fprintf(w, "export AWS_SECRET_ACCESS_KEY=%s\n", secret)
	fmt.Fprintf(w, "export AWS_ENDPOINT_URL=%s\n", url)
	fmt.Fprintf(w, "# AWS CLI before 2.13 ignores AWS_ENDPOINT_URL: aws --endpoint-url %s iam list-users\n", url)
	fmt.Fprintf(w, "# botocore/boto3 before 1.31 too: boto3.client(\"iam\", endpoint_url=\"%s\")\n", url)
	fmt.Fprintf(w, "export AWS_REGION=%s\n", iamkeystest.Region)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:4566", "address to listen on")
	account := flag.String("account", "123456789012", "AWS account ID of the fake; with -accounts, of the management account (default 111111111111)")
	accounts := flag.Int("accounts", 1, "number of accounts; above 1, an organization")
	flag.Parse()
	if *accounts < 1 {
		log.Fatalf("iamfake: -accounts %d: need at least 1", *accounts)
	}
	if *accounts > 1 {
		var opts []iamkeystest.OrgOption
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "account" {
				opts = append(opts, iamkeystest.WithManagementAccountID(*account))
			}
		})
		serveOrg(*addr, *accounts, opts...)
		return
	}

	s, err := iamkeystest.NewServerOn(*addr, iamkeystest.WithAccountID(*account))
	if err != nil {
		log.Fatalf("iamfake: %v", err)
	}
	creds := s.AdminCredentials()
	printEnv(os.Stdout, s.URL, creds.AccessKeyID, creds.SecretAccessKey)
	waitForSignal()
	s.Close()
}

// waitForSignal blocks until the process is interrupted or terminated.
func waitForSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}

// serveOrg serves an organization of n accounts until interrupted. The
// account comment lines come before the exports, so that AWS_REGION stays
// the last line.
func serveOrg(addr string, n int, opts ...iamkeystest.OrgOption) {
	o, err := iamkeystest.NewOrgOn(addr, n, opts...)
	if err != nil {
		log.Fatalf("iamfake: %v", err)
	}
	for i, s := range o.Accounts() {
		id := s.AccountID()
		if i == 0 {
			fmt.Printf("# account %s %s: the management account, whose admin the credentials below are\n", id, o.AccountName(id))
			continue
		}
		fmt.Printf("# account %s %s: aws sts assume-role --role-arn %s --role-session-name audit\n",
			id, o.AccountName(id), o.RoleARN(id, iamkeystest.DefaultRoleName))
	}
	creds := o.Management().AdminCredentials()
	printEnv(os.Stdout, o.URL, creds.AccessKeyID, creds.SecretAccessKey)
	waitForSignal()
	o.Close()
}
