package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"log"
	"os"
	"strings"

	"github.com/tenantgate/tenantgate/hack/bench/internal/report"
	"github.com/tenantgate/tenantgate/hack/bench/results"
)

func main() {
	machine := flag.String("machine", "", "name<TAB>value facts about the machine")
	versions := flag.String("versions", "", "name<TAB>value versions of the programs")
	dataplane := flag.String("dataplane", "", "the data-plane driver's JSON")
	controlplane := flag.String("controlplane", "", "go test -bench output of tests/bench")
	decisions := flag.String("decisions", "", "go test -bench output of tenancy's BenchmarkCheckHTTPRoute")
	build := flag.String("build", "", "go test -bench output of gateway/translate's BenchmarkBuild")
	markdown := flag.String("markdown", "docs/bench/REPORT.md", "report to write")
	jsonOut := flag.String("json", "", "results JSON to write; empty skips it")
	from := flag.String("results", "", "re-render a results JSON written by an earlier run (-json) instead of reading the other inputs")
	flag.Parse()
	var r results.Results
	var err error
	if *from != "" {
		data, ok := readOptional(*from)
		if !ok {
			log.Fatalf("%s does not exist; give the results.json of an earlier run", *from)
		}
		if err := decodeStrict(data, &r); err != nil {
			log.Fatalf("%s is not a results JSON: %v", *from, err)
		}
		write(r, *markdown, *jsonOut)
		return
	}
	if r.Machine, err = readFacts(*machine); err != nil {
		log.Fatal(err)
	}
	if r.Versions, err = readFacts(*versions); err != nil {
		log.Fatal(err)
	}
	if data, ok := readOptional(*dataplane); ok {
		r.DataPlane = &results.DataPlane{}
		if err := decodeStrict(data, r.DataPlane); err != nil {
			log.Fatalf("%s is not the data-plane driver's JSON: %v", *dataplane, err)
		}
	}
	for _, in := range []struct {
		file string
		into *[]results.GoBench
	}{{*controlplane, &r.ControlPlane}, {*decisions, &r.Decisions}, {*build, &r.Build}} {
		if data, ok := readOptional(in.file); ok {
			if *in.into, err = results.ParseGoBench(data); err != nil {
				log.Fatalf("%s: %v", in.file, err)
			}
		}
	}
	write(r, *markdown, *jsonOut)
}

// write renders the report and, when jsonOut is set, keeps the results.
func write(r results.Results, markdown, jsonOut string) {
	if err := os.WriteFile(markdown, []byte(report.Render(r)), 0o644); err != nil {
		log.Fatal(err)
	}
	if jsonOut == "" {
		return
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(jsonOut, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

func decodeStrict(data string, into any) error {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

// readOptional returns a file's contents, or false when there is no file.
func readOptional(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		log.Fatal(err)
	}
	return string(data), true
}

// readFacts reads "name<TAB>value" lines.
func readFacts(path string) ([]results.Fact, error) {
	data, ok := readOptional(path)
	if !ok {
		return nil, nil
	}
	var facts []results.Fact
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		name, value, found := strings.Cut(sc.Text(), "\t")
		if found {
			facts = append(facts, results.Fact{Name: name, Value: value})
		}
	}
	return facts, sc.Err()
}
