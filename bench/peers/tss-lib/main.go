// tss-bench: bnb-chain tss-lib v2 threshold ECDSA (GG18) and EdDSA, 2-of-3, every party in this
// one process, messages passed in memory through their wire encoding (as tss-lib's own tests do).
// It is Conclave's bench peer (src/bench/peers/tss-lib.ts builds and runs it): it prints one JSON
// document of timings on stdout, progress on stderr.
//
// The Paillier pre-parameters (safe primes, the slow part of an ECDSA key generation) are read
// from -preparams, or generated once and written there. The timed key generations start from
// them, so they are key generation without the safe primes.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/bnb-chain/tss-lib/v2/common"
	ecdsaKeygen "github.com/bnb-chain/tss-lib/v2/ecdsa/keygen"
	ecdsaSigning "github.com/bnb-chain/tss-lib/v2/ecdsa/signing"
	eddsaKeygen "github.com/bnb-chain/tss-lib/v2/eddsa/keygen"
	eddsaSigning "github.com/bnb-chain/tss-lib/v2/eddsa/signing"
	"github.com/bnb-chain/tss-lib/v2/tss"
	"github.com/decred/dcrd/dcrec/edwards/v2"
	"github.com/ipfs/go-log"
)

const (
	parties = 3
	// tss-lib's threshold t means t+1 signers: 1 is 2-of-3.
	tssThreshold = 1
	signers      = tssThreshold + 1
	module       = "github.com/bnb-chain/tss-lib/v2"
)

// Sample is one signature, for the caller to verify on its own.
type Sample struct {
	PublicKey string `json:"publicKey"`
	Message   string `json:"message"`
	Signature string `json:"signature"`
}

// SchemeResult holds one scheme's timings, in milliseconds.
type SchemeResult struct {
	KeygenMs []float64 `json:"keygenMs"`
	SignMs   []float64 `json:"signMs"`
	Sample   Sample    `json:"sample"`
}

// PreParams says where the Paillier pre-parameters came from.
type PreParams struct {
	Path       string  `json:"path"`
	Cached     bool    `json:"cached"`
	GenerateMs float64 `json:"generateMs,omitempty"`
}

// Output is the document printed on stdout.
type Output struct {
	Library    string        `json:"library"`
	Version    string        `json:"version"`
	Go         string        `json:"go"`
	GoMaxProcs int           `json:"gomaxprocs"`
	Parties    int           `json:"parties"`
	Signers    int           `json:"signers"`
	Warmup     int           `json:"warmup"`
	PreParams  PreParams     `json:"preParams"`
	ECDSA      *SchemeResult `json:"ecdsa"`
	EdDSA      *SchemeResult `json:"eddsa,omitempty"`
}

func main() {
	preParamsPath := flag.String("preparams", ".conclave/bench-peers/tss-preparams.json", "Paillier pre-parameters cache (JSON)")
	keygens := flag.Int("keygen", 1, "timed key generations per scheme")
	signs := flag.Int("sign", 10, "timed signatures per scheme")
	warmup := flag.Int("warmup", 1, "untimed signatures per scheme before the timed ones")
	procs := flag.Int("procs", 1, "GOMAXPROCS while timing (1: one core, like the in-process floors it is compared with)")
	withEdDSA := flag.Bool("eddsa", true, "also measure EdDSA")
	flag.Parse()
	if err := log.SetLogLevel("tss-lib", "error"); err != nil {
		fail(err)
	}
	if *keygens < 1 || *signs < 1 || *warmup < 0 || *procs < 1 {
		fail(errors.New("-keygen and -sign take at least 1, -warmup at least 0, -procs at least 1"))
	}

	pre, info, err := loadOrGeneratePreParams(*preParamsPath)
	if err != nil {
		fail(err)
	}
	runtime.GOMAXPROCS(*procs)
	out := Output{
		Library:    module,
		Version:    moduleVersion(),
		Go:         runtime.Version(),
		GoMaxProcs: *procs,
		Parties:    parties,
		Signers:    signers,
		Warmup:     *warmup,
		PreParams:  info,
	}
	if out.ECDSA, err = benchECDSA(pre, *keygens, *signs, *warmup); err != nil {
		fail(fmt.Errorf("ecdsa: %w", err))
	}
	if *withEdDSA {
		if out.EdDSA, err = benchEdDSA(*keygens, *signs, *warmup); err != nil {
			fail(fmt.Errorf("eddsa: %w", err))
		}
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "tss-bench: %v\n", err)
	os.Exit(1)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[tss-bench] "+format+"\n", args...)
}

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == module {
				return d.Version
			}
		}
	}
	return "unknown"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ---- Paillier pre-parameters ---------------------------------------------------------------------

func loadOrGeneratePreParams(path string) ([]ecdsaKeygen.LocalPreParams, PreParams, error) {
	info := PreParams{Path: path}
	if raw, err := os.ReadFile(path); err == nil {
		var pre []ecdsaKeygen.LocalPreParams
		if err := json.Unmarshal(raw, &pre); err == nil && len(pre) == parties && allValid(pre) {
			info.Cached = true
			return pre, info, nil
		}
		progress("%s is not a usable cache: generating the pre-parameters again", path)
	}
	progress("generating Paillier pre-parameters for %d parties (safe primes; minutes, first run only)", parties)
	start := time.Now()
	pre := make([]ecdsaKeygen.LocalPreParams, 0, parties)
	for i := 0; i < parties; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		p, err := ecdsaKeygen.GeneratePreParamsWithContext(ctx, runtime.NumCPU())
		cancel()
		if err != nil {
			return nil, info, fmt.Errorf("generating pre-parameters: %w", err)
		}
		pre = append(pre, *p)
		progress("pre-parameters %d/%d after %.0f s", i+1, parties, time.Since(start).Seconds())
	}
	info.GenerateMs = ms(time.Since(start))
	raw, err := json.Marshal(pre)
	if err != nil {
		return nil, info, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, info, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return nil, info, err
	}
	return pre, info, os.Rename(tmp, path)
}

func allValid(pre []ecdsaKeygen.LocalPreParams) bool {
	for _, p := range pre {
		if !p.ValidateWithProof() {
			return false
		}
	}
	return true
}

// ---- running one protocol among in-process parties ----------------------------------------------

func partyIDs(n int, keys []*big.Int) tss.SortedPartyIDs {
	ids := make(tss.UnSortedPartyIDs, 0, n)
	for i := 0; i < n; i++ {
		ids = append(ids, tss.NewPartyID(fmt.Sprintf("p%d", i+1), fmt.Sprintf("p%d", i+1), keys[i]))
	}
	return tss.SortPartyIDs(ids)
}

// deliver hands one message to one party through its wire encoding, as a transport would.
func deliver(p tss.Party, msg tss.Message, errCh chan<- *tss.Error) {
	if p.PartyID() == msg.GetFrom() {
		return
	}
	bz, _, err := msg.WireBytes()
	if err != nil {
		errCh <- p.WrapError(err)
		return
	}
	parsed, err := tss.ParseWireMessage(bz, msg.GetFrom(), msg.IsBroadcast())
	if err != nil {
		errCh <- p.WrapError(err)
		return
	}
	if _, err := p.Update(parsed); err != nil {
		errCh <- err
	}
}

// run starts every party and routes their messages until each has ended; parties[i] must have
// index i in the sorted ids.
func run[T any](ps []tss.Party, outCh chan tss.Message, endCh chan T) ([]T, error) {
	errCh := make(chan *tss.Error, len(ps))
	for _, p := range ps {
		go func(p tss.Party) {
			if err := p.Start(); err != nil {
				errCh <- err
			}
		}(p)
	}
	ends := make([]T, 0, len(ps))
	for len(ends) < len(ps) {
		select {
		case err := <-errCh:
			return nil, err
		case msg := <-outCh:
			if to := msg.GetTo(); to == nil {
				for _, p := range ps {
					go deliver(p, msg, errCh)
				}
			} else {
				go deliver(ps[to[0].Index], msg, errCh)
			}
		case end := <-endCh:
			ends = append(ends, end)
		}
	}
	return ends, nil
}

func randomKeys(n int) []*big.Int {
	keys := make([]*big.Int, n)
	for i := range keys {
		keys[i] = common.MustGetRandomInt(rand.Reader, 256)
	}
	return keys
}

func randomMessage() ([]byte, *big.Int) {
	m := make([]byte, 32)
	if _, err := rand.Read(m); err != nil {
		panic(err)
	}
	return m, new(big.Int).SetBytes(m)
}

func pad32(b []byte) []byte {
	out := make([]byte, 32)
	copy(out[32-len(b):], b)
	return out
}

// ---- ECDSA (GG18) ---------------------------------------------------------------------------------

func ecdsaKeygenOnce(pre []ecdsaKeygen.LocalPreParams) ([]ecdsaKeygen.LocalPartySaveData, []*big.Int, error) {
	keys := randomKeys(parties)
	ids := partyIDs(parties, keys)
	ctx := tss.NewPeerContext(ids)
	outCh := make(chan tss.Message, 4*parties*parties)
	endCh := make(chan *ecdsaKeygen.LocalPartySaveData, parties)
	ps := make([]tss.Party, parties)
	for i, id := range ids {
		// proofs on (tss-lib's tests turn the mod and fac proofs off; a deployment must not)
		params := tss.NewParameters(tss.S256(), ctx, id, parties, tssThreshold)
		ps[i] = ecdsaKeygen.NewLocalParty(params, outCh, endCh, pre[i])
	}
	ends, err := run(ps, outCh, endCh)
	if err != nil {
		return nil, nil, err
	}
	saves := make([]ecdsaKeygen.LocalPartySaveData, len(ends))
	for _, s := range ends {
		i, err := s.OriginalIndex()
		if err != nil {
			return nil, nil, err
		}
		saves[i] = *s
	}
	return saves, ids.Keys(), nil
}

func ecdsaSignOnce(saves []ecdsaKeygen.LocalPartySaveData, keys []*big.Int, m *big.Int) (*common.SignatureData, error) {
	// the first two parties sign; ids sorted, each save found by its key
	ids := partyIDs(signers, keys[:signers])
	ctx := tss.NewPeerContext(ids)
	outCh := make(chan tss.Message, 4*signers*signers)
	endCh := make(chan *common.SignatureData, signers)
	ps := make([]tss.Party, signers)
	for i, id := range ids {
		params := tss.NewParameters(tss.S256(), ctx, id, signers, tssThreshold)
		ps[i] = ecdsaSigning.NewLocalParty(m, params, saveOf(saves, id.KeyInt()), outCh, endCh, 32)
	}
	ends, err := run(ps, outCh, endCh)
	if err != nil {
		return nil, err
	}
	return ends[0], nil
}

func saveOf(saves []ecdsaKeygen.LocalPartySaveData, key *big.Int) ecdsaKeygen.LocalPartySaveData {
	for _, s := range saves {
		if s.ShareID.Cmp(key) == 0 {
			return s
		}
	}
	panic("no save data for a signer")
}

func benchECDSA(pre []ecdsaKeygen.LocalPreParams, keygens, signs, warmup int) (*SchemeResult, error) {
	res := &SchemeResult{}
	var saves []ecdsaKeygen.LocalPartySaveData
	var keys []*big.Int
	for i := 0; i < keygens; i++ {
		progress("ecdsa key generation %d/%d", i+1, keygens)
		start := time.Now()
		var err error
		if saves, keys, err = ecdsaKeygenOnce(pre); err != nil {
			return nil, err
		}
		res.KeygenMs = append(res.KeygenMs, ms(time.Since(start)))
	}
	progress("ecdsa signing: %d warm-up + %d", warmup, signs)
	for i := 0; i < warmup+signs; i++ {
		mBytes, m := randomMessage()
		start := time.Now()
		sig, err := ecdsaSignOnce(saves, keys, m)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		if i >= warmup {
			res.SignMs = append(res.SignMs, ms(elapsed))
		}
		pub := saves[0].ECDSAPub
		prefix := byte(2)
		if pub.Y().Bit(0) == 1 {
			prefix = 3
		}
		res.Sample = Sample{
			PublicKey: hex.EncodeToString(append([]byte{prefix}, pad32(pub.X().Bytes())...)),
			Message:   hex.EncodeToString(mBytes),
			Signature: hex.EncodeToString(append(pad32(sig.R), pad32(sig.S)...)),
		}
	}
	return res, nil
}

// ---- EdDSA ------------------------------------------------------------------------------------------

func eddsaKeygenOnce() ([]eddsaKeygen.LocalPartySaveData, []*big.Int, error) {
	keys := randomKeys(parties)
	ids := partyIDs(parties, keys)
	ctx := tss.NewPeerContext(ids)
	outCh := make(chan tss.Message, 4*parties*parties)
	endCh := make(chan *eddsaKeygen.LocalPartySaveData, parties)
	ps := make([]tss.Party, parties)
	for i, id := range ids {
		params := tss.NewParameters(tss.Edwards(), ctx, id, parties, tssThreshold)
		ps[i] = eddsaKeygen.NewLocalParty(params, outCh, endCh)
	}
	ends, err := run(ps, outCh, endCh)
	if err != nil {
		return nil, nil, err
	}
	saves := make([]eddsaKeygen.LocalPartySaveData, len(ends))
	for _, s := range ends {
		i, err := s.OriginalIndex()
		if err != nil {
			return nil, nil, err
		}
		saves[i] = *s
	}
	return saves, ids.Keys(), nil
}

func eddsaSignOnce(saves []eddsaKeygen.LocalPartySaveData, keys []*big.Int, m *big.Int) (*common.SignatureData, error) {
	ids := partyIDs(signers, keys[:signers])
	ctx := tss.NewPeerContext(ids)
	outCh := make(chan tss.Message, 4*signers*signers)
	endCh := make(chan *common.SignatureData, signers)
	ps := make([]tss.Party, signers)
	for i, id := range ids {
		params := tss.NewParameters(tss.Edwards(), ctx, id, signers, tssThreshold)
		var save eddsaKeygen.LocalPartySaveData
		for _, s := range saves {
			if s.ShareID.Cmp(id.KeyInt()) == 0 {
				save = s
			}
		}
		ps[i] = eddsaSigning.NewLocalParty(m, params, save, outCh, endCh, 32)
	}
	ends, err := run(ps, outCh, endCh)
	if err != nil {
		return nil, err
	}
	return ends[0], nil
}

func benchEdDSA(keygens, signs, warmup int) (*SchemeResult, error) {
	res := &SchemeResult{}
	var saves []eddsaKeygen.LocalPartySaveData
	var keys []*big.Int
	for i := 0; i < keygens; i++ {
		progress("eddsa key generation %d/%d", i+1, keygens)
		start := time.Now()
		var err error
		if saves, keys, err = eddsaKeygenOnce(); err != nil {
			return nil, err
		}
		res.KeygenMs = append(res.KeygenMs, ms(time.Since(start)))
	}
	progress("eddsa signing: %d warm-up + %d", warmup, signs)
	for i := 0; i < warmup+signs; i++ {
		mBytes, m := randomMessage()
		start := time.Now()
		sig, err := eddsaSignOnce(saves, keys, m)
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start)
		if i >= warmup {
			res.SignMs = append(res.SignMs, ms(elapsed))
		}
		pub := saves[0].EDDSAPub
		pk := edwards.PublicKey{Curve: tss.Edwards(), X: pub.X(), Y: pub.Y()}
		res.Sample = Sample{
			PublicKey: hex.EncodeToString(pk.SerializeCompressed()),
			Message:   hex.EncodeToString(mBytes),
			Signature: hex.EncodeToString(sig.Signature),
		}
	}
	return res, nil
}
