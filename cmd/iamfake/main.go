// Command iamfake serves the in-memory IAM endpoint of package iamkeystest
// on a local address until interrupted.
//
// Usage:
//
//	iamfake [-addr 127.0.0.1:4566] [-account 123456789012]
//
// It prints shell export lines with the endpoint URL and the credentials of
// the bootstrap admin user; evaluate them to point the AWS CLI or an SDK at
// the fake. The secret is a throwaway made up at start.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4566", "address to listen on")
	account := flag.String("account", "123456789012", "AWS account ID of the fake")
	flag.Parse()

	s, err := iamkeystest.NewServerOn(*addr, iamkeystest.WithAccountID(*account))
	if err != nil {
		log.Fatalf("iamfake: %v", err)
	}
	creds := s.AdminCredentials()
	fmt.Printf("export AWS_ACCESS_KEY_ID=%s\n", creds.AccessKeyID)
	fmt.Printf("export AWS_SECRET_ACCESS_KEY=%s\n", creds.SecretAccessKey)
	fmt.Printf("export AWS_ENDPOINT_URL=%s\n", s.URL)
	fmt.Printf("export AWS_REGION=%s\n", iamkeystest.Region)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	s.Close()
}
