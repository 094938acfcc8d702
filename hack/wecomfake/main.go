// Command wecomfake serves the simulated WeCom API on its own, for trying
// the operator against a seeded corp:
//
//	go run ./hack/wecomfake -addr 127.0.0.1:8090 -contacts 100
//	bin/manager --wecom-api-base-url http://127.0.0.1:8090 ...
//
// With -send-to it also plays one encrypted add_external_contact callback
// to a WeComApp's callback URL and prints the answer.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	corpID := flag.String("corp", "ww1436e0e65a779aee", "corp ID")
	secret := flag.String("secret", "demo-corp-secret", "the app's corp secret")
	contacts := flag.Int("contacts", 50, "seeded contacts")
	members := flag.Int("members", 5, "seeded follow users")
	sendTo := flag.String("send-to", "", "callback URL to send one add_external_contact to, then exit")
	token := flag.String("token", "", "callback token (with -send-to)")
	aesKey := flag.String("aes-key", "", "EncodingAESKey (with -send-to)")
	flag.Parse()

	if *sendTo != "" {
		s := &wecomfake.Sender{URL: *sendTo, CorpID: *corpID, Token: *token, AESKey: *aesKey}
		resp, err := s.Send(context.Background(), wecomfake.ContactEvent{ChangeType: "add_external_contact",
			UserID: "member000", ExternalUserID: wecomfake.RandomID("wm"), WelcomeCode: "WELCOME"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%d %s\n", resp.Status, resp.Body)
		return
	}
	corp := wecomfake.NewCorp(*corpID, *secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: *members, Contacts: *contacts, MaxFollowsPerContact: 2, Seed: 1})
	srv := &http.Server{Addr: *addr, Handler: wecomfake.NewServer(corp), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("simulated WeCom for corp %s (%d contacts, %d members) on http://%s", *corpID, *contacts, *members, *addr)
	log.Fatal(srv.ListenAndServe())
}
