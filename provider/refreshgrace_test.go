package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// keptRecords is a GrantStore that keeps what the provider creates.
type keptRecords struct {
	GrantStore
	created []*storage.OAuth2Record
}

func (k *keptRecords) CreateOAuth2(_ context.Context, r *storage.OAuth2Record) error {
	k.created = append(k.created, r)
	return nil
}

// The answer kept for the refresh grace period holds the tokens it gave, and
// the database never holds a readable token (DESIGN: secrets at rest): the
// record is keyed by signature hashes, its session is sealed and bound to
// the rotated token, and it opens to the same tokens, expires_in counted down.
func TestKeptAnswerIsSealed(t *testing.T) {
	successors, err := seal.New(bytes.Repeat([]byte{7}, 32), successorSealPurpose)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	records := &keptRecords{}
	f := newFositeStore(records, nil, Lifespans{}.withDefaults(), func() time.Time { return now }, successors)

	ar := fosite.NewAccessRequest(newSession())
	ar.Client = fositeClient{c: &storage.Client{ID: "shop"}}
	resp := fosite.NewAccessResponse()
	resp.SetAccessToken("ory_at_SECRETACCESS.sig1")
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(time.Hour)
	resp.SetExtra("refresh_token", "ory_rt_SECRETREFRESH.sig2")
	resp.SetExtra("id_token", "eyJ.SECRETIDTOKEN.sig3")
	tr := &tokenRequest{rotated: signatureKey("sig0"), successor: signatureKey("sig2")}
	if err := f.keepAnswer(context.Background(), tr, ar, resp); err != nil {
		t.Fatal(err)
	}
	if len(records.created) != 1 {
		t.Fatalf("kept %d records, want 1", len(records.created))
	}
	rec := records.created[0]
	if rec.Kind != storage.KindSuccessor || rec.Signature != tr.rotated || rec.AccessSignature != tr.successor {
		t.Errorf("kept %s %q → %q, want the successor record of the rotated token", rec.Kind, rec.Signature, rec.AccessSignature)
	}
	stored := strings.Join([]string{rec.Signature, rec.AccessSignature, rec.Form, string(rec.Session)}, " ")
	for _, secret := range []string{"SECRETACCESS", "SECRETREFRESH", "SECRETIDTOKEN", "sig1", "sig2", "sig3"} {
		if strings.Contains(stored, secret) {
			t.Errorf("the kept answer stores %q readable", secret)
		}
	}

	now = now.Add(10 * time.Second)
	again, err := f.answerAgain(rec)
	if err != nil {
		t.Fatal(err)
	}
	if again.GetAccessToken() != resp.GetAccessToken() || again.GetExtra("refresh_token") != "ory_rt_SECRETREFRESH.sig2" ||
		again.GetExtra("id_token") != "eyJ.SECRETIDTOKEN.sig3" {
		t.Errorf("answered again %v, want the kept tokens", again.ToMap())
	}
	if in := again.ToMap()["expires_in"]; in != int64(3590) {
		t.Errorf("expires_in answered again %v, want 3590", in)
	}

	moved := *rec
	moved.Signature = signatureKey("another")
	if _, err := f.answerAgain(&moved); err == nil {
		t.Error("a kept answer opened under another token's signature")
	}
}
