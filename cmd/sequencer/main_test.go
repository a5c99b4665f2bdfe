package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/mod/sumdb/note"

	"github.com/appendonly/appendonly/journal"
	"github.com/appendonly/appendonly/ledger"
)

const origin = "arn:aws:dynamodb:us-east-1:111122223333:table/Music"

// A stream event as Lambda delivers it, with every attribute type.
const event = `{"Records":[
 {"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"ApproximateCreationDateTime":1764547200,
  "Keys":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  "NewImage":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"},"n":{"N":"1.50"},"b":{"B":"AAE="},"t":{"BOOL":true},
   "z":{"NULL":true},"m":{"M":{"x":{"L":[{"S":"a"},{"N":"2"}]}}},"ss":{"SS":["b","a"]},"ns":{"NS":["2","1"]},"bs":{"BS":["AQ=="]}},
  "SequenceNumber":"111","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"}},
 {"eventID":"2","eventName":"MODIFY","eventSource":"aws:dynamodb","dynamodb":{"ApproximateCreationDateTime":1764547201,
  "Keys":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  "NewImage":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"},"AwardsWon":{"N":"1"}},
  "OldImage":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  "SequenceNumber":"112","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"}}]}`

func TestHandleJournalsTheEventAndCountsMutations(t *testing.T) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		t.Fatal(err)
	}
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	store := &journal.MemStore{}
	var metrics bytes.Buffer
	h := &handler{seq: &journal.Sequencer{Store: store, Signer: signer, Verifier: verifier, Origin: origin}, metrics: &metrics}
	for i := 0; i < 2; i++ { // delivered twice
		if err := h.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	l, err := (&journal.Verifier{Store: store, Key: verifier}).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l.Size != 2 || len(l.Problems) != 0 {
		t.Fatalf("got size %d, problems %v, want 2 entries and none", l.Size, l.Problems)
	}
	item, err := ledger.Decode(l.Entries[0].NewImage.Inline)
	if err != nil || len(item) != 10 {
		t.Errorf("the insert's image has %d attributes (%v), want 10", len(item), err)
	}
	if l.Entries[1].Kind != journal.Modify || !l.Entries[1].OldImage.Present {
		t.Errorf("the modify entry is %+v", l.Entries[1])
	}
	if got := strings.Count(metrics.String(), `"JournaledMutations":1`); got != 1 {
		t.Errorf("got %d metric lines counting 1 mutation, want 1: the second delivery journals nothing: %s", got, metrics.String())
	}
}

func TestUnknownEventName(t *testing.T) {
	_, err := journal.FromLambda(events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "TRUNCATE"}}})
	if err == nil {
		t.Error("an unknown event name was accepted")
	}
}
