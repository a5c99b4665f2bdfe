package check

import (
	"fmt"
	"strings"
)

// journalRules are the journal's invariants that are rules rather than
// recorded values: its feed (the mapping feeds the sequencer alone, from
// the table's stream, unfiltered, unbounded and enabled), its sequencer
// (the assembly's own code, the monitor's, with no layer, no reserved
// concurrency of 0, no invocation but a schedule's, a role only Lambda
// assumes, its environment naming the journal's bucket and key), its
// bucket (one bucket policy, its encryption an AWS managed key, no rule
// that expires a version) and its signing key (enabled, single-Region).
func journalRules(t Table, byPath map[string]*stackTemplate, assets map[string]bool) []violation {
	type part struct {
		s  *stackTemplate
		id string
		r  map[string]any
	}
	parts := map[string]part{}
	for _, p := range t.Protected {
		s := byPath[t.StackPath]
		if p.StackPath != "" {
			s = byPath[p.StackPath]
		}
		if s == nil {
			continue
		}
		if r, ok := s.res[p.ID]; ok && r["Type"] == TypeOf(p.What) {
			parts[p.What] = part{s, p.ID, r}
		}
	}
	seq, ok := parts["journal sequencer"]
	if !ok {
		return nil // not a journal, or a part missing: named by checkOne
	}
	label := pathOf(t.StackPath, t.Protected[0].ID)
	var out []violation
	add := func(p part, what, location, fix, format string, args ...any) {
		out = append(out, violation{rule: ruleInvariant, severity: fatal, file: p.s.file, logicalID: p.id, location: location,
			message: "appendonly: " + what + " of the append-only table " + label + ": " + fmt.Sprintf(format, args...), fix: fix})
	}
	const keep = "Remove the override, aspect or resource that changes it: the journal records every change only while its feed, sequencer, bucket and key are as the construct wrote them."
	refersTo := func(v any, id string) bool {
		return mapGet(v, "Ref") == id || func() bool {
			ga := asAnyList(mapGet(v, "Fn::GetAtt"))
			return len(ga) > 0 && ga[0] == id
		}()
	}
	propsOf := func(p part) map[string]any { m, _ := p.r["Properties"].(map[string]any); return m }

	if m, ok := parts["journal mapping"]; ok {
		mp := propsOf(m)
		if mp["Enabled"] == false || mp["Enabled"] == "false" {
			add(m, "the journal's event source mapping", "Properties/Enabled", keep, "it is disabled (Enabled false): nothing is journaled")
		}
		if mp["FilterCriteria"] != nil {
			add(m, "the journal's event source mapping", "Properties/FilterCriteria", keep, "it has a FilterCriteria %s: the records it drops are never journaled", compact(mp["FilterCriteria"]))
		}
		for _, k := range []string{"MaximumRecordAgeInSeconds", "MaximumRetryAttempts"} {
			if v, ok := mp[k]; ok && fmt.Sprint(v) != "-1" {
				add(m, "the journal's event source mapping", "Properties/"+k, keep, "%s is %v, should be -1: a record that fails that long or that often is dropped", k, v)
			}
		}
		if !refersTo(mp["FunctionName"], seq.id) {
			add(m, "the journal's event source mapping", "Properties/FunctionName", keep, "it feeds %s, not the sequencer %s", compact(mp["FunctionName"]), seq.id)
		}
	}
	sp := propsOf(seq)
	if layers := asAnyList(sp["Layers"]); len(layers) > 0 {
		add(seq, "the journal's sequencer", "Properties/Layers", keep, "it has layers %s: code the sequencer runs that is not the construct's", compact(layers))
	}
	if c, ok := sp["ReservedConcurrentExecutions"]; ok && fmt.Sprint(c) == "0" {
		add(seq, "the journal's sequencer", "Properties/ReservedConcurrentExecutions", keep, "its reserved concurrency is 0: it never runs")
	}
	if h, r := sp["Handler"], sp["Runtime"]; h != "bootstrap" || r != "provided.al2023" {
		add(seq, "the journal's sequencer", "Properties/Runtime", keep, "it runs %v with handler %v, not the construct's binary on provided.al2023", r, h)
	}
	code, _ := mapGet(sp["Code"], "S3Key").(string)
	mon, ok := parts["journal monitor"]
	other, _ := mapGet(propsOf(mon)["Code"], "S3Key").(string)
	if hash, _, _ := strings.Cut(code, "."); ok && other != code {
		add(seq, "the journal's sequencer", "Properties/Code", keep, "its code (%s) is not the monitor's (%s): it was replaced", orNone(code), orNone(other))
	} else if !assets[hash] {
		add(seq, "the journal's sequencer", "Properties/Code", keep, "its code %s is not an asset of this cloud assembly", compact(sp["Code"]))
	}
	env, _ := mapGet(sp["Environment"], "Variables").(map[string]any)
	if b, ok := parts["journal bucket"]; ok && !refersTo(env["JOURNAL_BUCKET"], b.id) {
		add(seq, "the journal's sequencer", "Properties/Environment", keep, "JOURNAL_BUCKET is %s, not the journal's bucket %s", compact(env["JOURNAL_BUCKET"]), b.id)
	}
	if k, ok := parts["journal key"]; ok && !refersTo(env["JOURNAL_KEY"], k.id) {
		add(seq, "the journal's sequencer", "Properties/Environment", keep, "JOURNAL_KEY is %s, not the journal's key %s", compact(env["JOURNAL_KEY"]), k.id)
	}
	if role, ok := parts["journal sequencer role"]; ok {
		if !refersTo(sp["Role"], role.id) {
			add(seq, "the journal's sequencer", "Properties/Role", keep, "its role is %s, not the construct's %s", compact(sp["Role"]), role.id)
		}
		for _, st := range asAnyList(mapGet(propsOf(role)["AssumeRolePolicyDocument"], "Statement")) {
			principal := mapGet(st, "Principal")
			if mapGet(st, "Effect") == "Allow" && !(len(asAnyList(principal)) == 1 && compact(principal) == `{"Service":"lambda.amazonaws.com"}`) {
				add(role, "the journal's sequencer role", "Properties/AssumeRolePolicyDocument", keep, "it may be assumed by %s, not only by Lambda: whoever assumes it speaks as the sequencer", compact(principal))
			}
		}
	}
	// What other resources of the journal's stack do to it.
	for _, id := range sortedKeys(seq.s.res) {
		r := seq.s.res[id]
		rp, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::Lambda::Permission":
			if refersTo(rp["FunctionName"], seq.id) && rp["Principal"] != "events.amazonaws.com" {
				add(part{seq.s, id, r}, "a permission on the journal's sequencer", "Properties/Principal", "Remove the permission (GrantInvoke, AddPermission): only the table's stream, and the construct's schedule, invoke the sequencer.",
					"it lets %s invoke the sequencer, with records of its own making", compact(rp["Principal"]))
			}
		case "AWS::Lambda::EventSourceMapping":
			if m := parts["journal mapping"]; refersTo(rp["FunctionName"], seq.id) && id != m.id {
				add(part{seq.s, id, r}, "a second event source mapping of the journal's sequencer", "Properties/EventSourceArn", "Remove it: the sequencer reads the table's stream alone.",
					"it feeds the sequencer from %s", compact(rp["EventSourceArn"]))
			}
		case "AWS::S3::BucketPolicy":
			if b, ok := parts["journal bucket"]; ok && refersTo(rp["Bucket"], b.id) && id != parts["journal bucket policy"].id {
				add(part{seq.s, id, r}, "a second bucket policy of the journal's bucket", "Properties/Bucket", "Remove it: S3 keeps one bucket policy, the last written, so a second replaces the construct's.",
					"it replaces the journal bucket's policy when deployed")
			}
		}
	}
	if b, ok := parts["journal bucket"]; ok {
		bp := propsOf(b)
		for _, rule := range asAnyList(mapGet(bp["LifecycleConfiguration"], "Rules")) {
			for _, k := range []string{"ExpirationInDays", "ExpirationDate", "NoncurrentVersionExpiration", "NoncurrentVersionExpirationInDays", "ExpiredObjectDeleteMarker", "Transitions", "NoncurrentVersionTransitions"} {
				if mapGet(rule, k) != nil && mapGet(rule, "Status") != "Disabled" {
					add(b, "the journal bucket", "Properties/LifecycleConfiguration", keep, "its lifecycle rule %v sets %s: it would expire or move the journal's versions", mapGet(rule, "Id"), k)
				}
			}
		}
		for _, e := range asAnyList(mapGet(bp["BucketEncryption"], "ServerSideEncryptionConfiguration")) {
			if id := mapGet(mapGet(e, "ServerSideEncryptionByDefault"), "KMSMasterKeyID"); id != nil {
				add(b, "the journal bucket", "Properties/BucketEncryption", keep, "it is encrypted with the key %s: whoever controls that key can make the journal unreadable", compact(id))
			}
		}
	}
	if k, ok := parts["journal key"]; ok {
		kp := propsOf(k)
		if kp["Enabled"] == false || kp["Enabled"] == "false" {
			add(k, "the journal key", "Properties/Enabled", keep, "it is disabled: no checkpoint is signed")
		}
		if kp["MultiRegion"] == true || kp["MultiRegion"] == "true" {
			add(k, "the journal key", "Properties/MultiRegion", keep, "it is multi-Region: a replica in another Region signs as the journal")
		}
	}
	return out
}
