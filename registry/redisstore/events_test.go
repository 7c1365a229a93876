package redisstore_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/redisstore"
)

// logKey is a checkpoint key shared by the Logs of one test (one registry).
type logKey struct {
	signer   func(msg []byte) ([]byte, error)
	pub      ed25519.PublicKey
	verifier string
}

func newLogKey(t *testing.T) logKey {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	vkey, err := merkle.VerifierKey("credence.test/redis", pub)
	if err != nil {
		t.Fatal(err)
	}
	return logKey{signer: func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil }, pub: pub, verifier: vkey}
}

// newLog is a registry Log (one server process) on its own Redis client.
func newLog(t *testing.T, k logKey, client redis.UniversalClient, prefix string) *registry.Log {
	t.Helper()
	signer, err := merkle.NewSigner("credence.test/redis", k.pub, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := merkle.NewVerifier(k.verifier)
	if err != nil {
		t.Fatal(err)
	}
	return registry.NewLog(redisstore.New(client, prefix), signer, verifier)
}

// issuerKey is a DID's update key.
type issuerKey struct {
	priv ed25519.PrivateKey
	mk   string
}

func newIssuerKey(t *testing.T, seed byte) issuerKey {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	mk, err := did.EncodeMultikey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return issuerKey{priv: priv, mk: mk}
}

func (k issuerKey) sign(t *testing.T, op *registry.Op) []byte {
	t.Helper()
	if err := registry.AddProof(op, "#"+k.mk, k.priv.Public(), registry.SignerFunc(k.priv)); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// didCreate returns a signed did.create with update key u and recovery key r.
func didCreate(t *testing.T, u, r issuerKey) (*registry.Op, []byte) {
	t.Helper()
	id := registry.MethodPrefix + registry.SCIDPlaceholder
	doc, _ := json.Marshal(map[string]any{
		"@context":           []string{did.ContextDIDv1, did.ContextMultikey},
		"id":                 id,
		"verificationMethod": []map[string]any{{"id": id + "#key-1", "type": did.TypeMultikey, "controller": id, "publicKeyMultibase": u.mk}},
		"assertionMethod":    []string{"#key-1"},
	})
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: id, Seq: 1, Time: opTime(0),
		Doc: doc, UpdateKeys: []string{u.mk}, RecoveryKeys: []string{r.mk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	return op, u.sign(t, op)
}

func opTime(minutes int) string {
	return time.Now().UTC().Add(-time.Hour + time.Duration(minutes)*time.Minute).Truncate(time.Second).Format(registry.TimeLayout)
}

// next reads one event within a second.
func next(t *testing.T, ch <-chan registry.Event) registry.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("events channel closed")
		}
		return ev
	case <-time.After(time.Second):
		t.Fatal("no event within a second")
	}
	return registry.Event{}
}

func noEvent(t *testing.T, ch <-chan registry.Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestLogsShareEvents: two Logs (two processes: two clients) on one Redis
// log. An op appended through either reaches the subscribers of both within a
// second, in order, once; status lists work across them (the issuer created
// through one, its list through the other).
func TestLogsShareEvents(t *testing.T) {
	ctx := t.Context()
	prefix := testredis.Prefix(t)
	k := newLogKey(t)
	a := newLog(t, k, testredis.Client(t), prefix)
	b := newLog(t, k, testredis.Client(t), prefix)
	chA := a.Subscribe(ctx)
	chB := b.Subscribe(ctx)

	u, r := newIssuerKey(t, 1), newIssuerKey(t, 2)
	create, raw := didCreate(t, u, r)
	start := time.Now()
	rec, err := a.Submit(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	want := registry.Event{Index: rec.Index, Subject: create.Subject, Seq: 1, Type: registry.DIDCreate, Hash: rec.Hash}
	for name, ch := range map[string]<-chan registry.Event{"a": chA, "b": chB} {
		if got := next(t, ch); got != want {
			t.Fatalf("%s's subscriber got %+v, want %+v", name, got, want)
		}
	}
	t.Logf("event of an append through a reached b's subscriber in %v", time.Since(start))

	// The issuer's status list, created through b, updated through a.
	const url = "https://status.example.com/redis/rev-1"
	bits := make([]byte, registry.MinStatusListBits/8)
	lc := registry.NewStatusListOp(registry.StatusListCreate, url, 1, "", opTime(1), registry.StatusListChange{
		Issuer: create.Subject, Purpose: registry.PurposeRevocation, Size: registry.MinStatusListBits, ListHash: registry.ListHash(bits)})
	rec1, err := b.Submit(ctx, u.sign(t, lc))
	if err != nil {
		t.Fatal(err)
	}
	st, err := a.StatusList(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	bits[94567/8] |= 0x80 >> (94567 % 8)
	lu := registry.NewStatusListOp(registry.StatusListUpdate, url, 2, st.Hash, opTime(2), registry.StatusListChange{
		Purpose: registry.PurposeRevocation, Size: registry.MinStatusListBits, Set: []int{94567}, ListHash: registry.ListHash(bits)})
	rec2, err := a.Submit(ctx, u.sign(t, lu))
	if err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan registry.Event{"a": chA, "b": chB} {
		for _, w := range []registry.Event{
			{Index: rec1.Index, Subject: url, Seq: 1, Type: registry.StatusListCreate, Hash: rec1.Hash},
			{Index: rec2.Index, Subject: url, Seq: 2, Type: registry.StatusListUpdate, Hash: rec2.Hash},
		} {
			if got := next(t, ch); got != w {
				t.Fatalf("%s's subscriber got %+v, want %+v", name, got, w)
			}
		}
		noEvent(t, ch)
	}
	// b's state (cached after its create) catches up on a's update.
	st, err = b.StatusList(ctx, url)
	if err != nil || st.Seq != 2 || !registry.StatusBit(st.StatusList.Bits, 94567) {
		t.Fatalf("b's view of the list: %+v, %v", st, err)
	}
}

// TestEventsResetOnReconnect: when the subscription's connection drops, the
// subscriber gets a Reset once it is subscribed again, then the events.
func TestEventsResetOnReconnect(t *testing.T) {
	ctx := t.Context()
	prefix := testredis.Prefix(t)
	name := "evtest-" + strings.TrimSuffix(prefix, ":")
	subClient := redis.NewClient(&redis.Options{Addr: testredis.Addr(t), ClientName: name})
	t.Cleanup(func() { subClient.Close() })
	admin := testredis.Client(t)
	k := newLogKey(t)
	writer := newLog(t, k, testredis.Client(t), prefix)
	reader := newLog(t, k, subClient, prefix)
	ch := reader.Subscribe(ctx)

	u, r := newIssuerKey(t, 3), newIssuerKey(t, 4)
	_, raw := didCreate(t, u, r)
	rec, err := writer.Submit(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Index != rec.Index {
		t.Fatalf("event %+v", ev)
	}

	// Kill the reader's pub/sub connection (only that one: by name and flag).
	list, err := admin.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.Lines(list) {
		f := fields(line)
		if f["name"] == name && strings.Contains(f["flags"], "P") {
			if err := admin.ClientKillByFilter(ctx, "ID", f["id"]).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d pub/sub connections named %s; client list:\n%s", killed, name, list)
	}
	if ev := next(t, ch); !ev.Reset {
		t.Fatalf("after the connection dropped: %+v, want a Reset", ev)
	}
	_, raw = didCreate(t, newIssuerKey(t, 5), r)
	rec, err = writer.Submit(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev.Index != rec.Index || ev.Reset {
		t.Fatalf("after resubscribing: %+v, want index %d", ev, rec.Index)
	}
	noEvent(t, ch)
}

func fields(line string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// TestEventsGapAndDuplicates: a publication that skips indexes is a Reset
// (something was lost); a repeated or older index is dropped.
func TestEventsGapAndDuplicates(t *testing.T) {
	ctx := t.Context()
	client := testredis.Client(t)
	s := redisstore.New(client, testredis.Prefix(t))
	ch, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l := registry.Leaf{Subject: "did:credence:x", Seq: 1, Hash: "h1", Data: []byte(`{"type":"did.create"}`)}
	if _, err := s.Append(ctx, registry.Head{}, l); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, ch); ev != (registry.Event{Index: 0, Subject: l.Subject, Seq: 1, Type: registry.DIDCreate, Hash: "h1"}) {
		t.Fatalf("event %+v", ev)
	}
	pub := func(v string) {
		if err := client.Publish(ctx, s.Channel(), v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	pub(`{"index":0,"subject":"did:credence:x","seq":1}`) // duplicate
	pub(`not json`)                                       // not ours
	pub(`{"index":5,"subject":"did:credence:y","seq":1}`) // indexes 1..4 lost
	if ev := next(t, ch); !ev.Reset {
		t.Fatalf("after a gap: %+v, want a Reset", ev)
	}
	if ev := next(t, ch); ev.Index != 5 {
		t.Fatalf("after the Reset: %+v, want index 5", ev)
	}
	noEvent(t, ch)
}

// TestEventsSubscribeFailsWithoutRedis: Events reports a Redis it cannot
// reach; the Log's Subscribe does not hang on it.
func TestEventsSubscribeFailsWithoutRedis(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	s := redisstore.New(client, "nowhere:")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.Events(ctx); err == nil {
		t.Fatal("Events on an unreachable Redis succeeded")
	}
	l := newLog(t, newLogKey(t), client, "nowhere:")
	start := time.Now()
	sctx, scancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer scancel()
	ch := l.Subscribe(sctx)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Subscribe took %v", d)
	}
	for range ch { // closed with its context
	}
}
