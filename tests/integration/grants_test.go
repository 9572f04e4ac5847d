package integration

// ReferenceGrants in a tenant's namespaces: who they trust, what kinds they
// open up, whether they name their target; v1 and v1beta1 alike.

var grantCases = []admissionCase{{
	name: "allowed namespace, kind and name admitted",
	obj:  grant("kiwis", from("HTTPRoute", "infra"), to("Service", "kiwi-echo")),
}, {
	name: "the tenant's own namespaces are always trusted",
	obj:  grant("kiwis", from("HTTPRoute", "kiwis-dev"), to("Service", "kiwi-echo")),
}, {
	name: "from a namespace the tenant does not allow denied",
	obj:  grant("kiwis", from("HTTPRoute", "infra", "rogue"), to("Service", "kiwi-echo")),
	want: denied(`spec.from[1].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "kiwis" (allowed: infra); grant from an allowed namespace or add it to Tenant kiwis spec.referenceGrants.allowFromNamespaces`),
}, {
	name: "a kind outside allowedKinds denied",
	obj:  grant("kiwis", from("Gateway", "infra"), to("Secret", "kiwi-tls")),
	want: denied(`spec.to[0].kind: "Secret" is not a kind tenant "kiwis" may open up (allowed: Service); grant one of them or add it to Tenant kiwis spec.referenceGrants.allowedKinds`),
}, {
	name: "a wildcard name denied unless allowed",
	obj:  grant("kiwis", from("HTTPRoute", "infra"), to("Service", "")),
	want: denied(`spec.to[0].name: unset, so the grant opens up every Service in namespace "kiwis", which tenant "kiwis" does not allow; set to.name, or set Tenant kiwis spec.referenceGrants.allowWildcardNames`),
}, {
	name: "a wildcard name and extra kinds admitted where allowed",
	obj:  grant("limes", from("HTTPRoute", "kiwis"), to("Service", ""), to("Secret", "")),
}, {
	name: "grants in a namespace of no tenant are not policed",
	obj:  grant("rogue", from("HTTPRoute", "kiwis"), to("Secret", "")),
}, {
	name: "grants in a platform namespace are not policed",
	obj:  grant("infra", from("HTTPRoute", "rogue"), to("Secret", "")),
}, {
	name: "v1beta1 from a namespace the tenant does not allow denied",
	obj:  grant("kiwis", v1beta1Grant(), from("HTTPRoute", "rogue"), to("Service", "kiwi-echo")),
	want: denied(`spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "kiwis" (allowed: infra); grant from an allowed namespace or add it to Tenant kiwis spec.referenceGrants.allowFromNamespaces`),
}, {
	name: "v1beta1 allowed grant admitted",
	obj:  grant("kiwis", v1beta1Grant(), from("HTTPRoute", "infra"), to("Service", "kiwi-echo")),
}}
