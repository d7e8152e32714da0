package bicep

// Extraction of a Microsoft Graph Bicep extension's definition from its
// generated Bicep types (index.json and types.json, as in
// microsoftgraph/msgraph-bicep-types and in the extension's types.tgz).

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Flags of a Bicep type property (Azure/bicep-types ObjectTypePropertyFlags).
const (
	graphFlagRequired = 1 << 0
	graphFlagReadOnly = 1 << 1
	graphFlagWrite    = 1 << 2
)

// GraphDefFromTypes extracts the definition of one Graph extension version
// from its index.json and types.json. src is recorded as given, with SHA256
// set to the digest of typesJSON.
func GraphDefFromTypes(extension, version string, indexJSON, typesJSON []byte, src Source) (*GraphDef, error) {
	var index struct {
		Resources map[string]struct {
			Ref string `json:"$ref"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(indexJSON, &index); err != nil {
		return nil, fmt.Errorf("%s:%s index.json: %w", extension, version, err)
	}
	var types []map[string]any
	if err := json.Unmarshal(typesJSON, &types); err != nil {
		return nil, fmt.Errorf("%s:%s types.json: %w", extension, version, err)
	}
	sum := sha256.Sum256(typesJSON)
	src.SHA256 = hex.EncodeToString(sum[:])
	g := &GraphDef{Extension: extension, Version: version, Source: src, Resources: map[string]*TypeDef{}}
	c := graphTypes{types: types}
	for name, r := range index.Resources {
		i, err := c.index(strings.TrimPrefix(r.Ref, "types.json"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if types[i]["$type"] != "ResourceType" {
			return nil, fmt.Errorf("%s: %s is a %v, not a ResourceType", name, r.Ref, types[i]["$type"])
		}
		body, err := c.typeOf(asMap(types[i]["body"]), nil)
		if err != nil {
			return nil, fmt.Errorf("%s body: %w", name, err)
		}
		g.Resources[name] = body
	}
	if len(g.Resources) == 0 {
		return nil, fmt.Errorf("%s:%s index.json lists no resources", extension, version)
	}
	return g, nil
}

// graphTypes resolves references into one types.json.
type graphTypes struct {
	types []map[string]any
}

// index resolves a "#/N" reference.
func (c graphTypes) index(ref string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(ref, "#/"))
	if err != nil || !strings.HasPrefix(ref, "#/") || n < 0 || n >= len(c.types) {
		return 0, fmt.Errorf("bad type reference %q", ref)
	}
	return n, nil
}

// typeOf converts the type a {"$ref": "#/N"} points at. stack holds the
// object types being expanded, to stop recursion.
func (c graphTypes) typeOf(ref map[string]any, stack []int) (*TypeDef, error) {
	s, _ := ref["$ref"].(string)
	i, err := c.index(s)
	if err != nil {
		return nil, err
	}
	raw := c.types[i]
	switch raw["$type"] {
	case "StringType":
		return &TypeDef{Type: "string"}, nil
	case "StringLiteralType":
		return &TypeDef{Type: "string", AllowedValues: []any{raw["value"]}}, nil
	case "IntegerType":
		return &TypeDef{Type: "int"}, nil
	case "BooleanType":
		return &TypeDef{Type: "bool"}, nil
	case "AnyType":
		return &TypeDef{Type: "any"}, nil
	case "NullType":
		return &TypeDef{Type: "any", Nullable: true}, nil
	case "ArrayType":
		it, err := c.typeOf(asMap(raw["itemType"]), stack)
		if err != nil {
			return nil, err
		}
		return &TypeDef{Type: "array", Items: it}, nil
	case "UnionType":
		// A union of string literals is a string with allowed values;
		// anything else is left unchecked.
		t := &TypeDef{Type: "string"}
		elems, _ := raw["elements"].([]any)
		for _, e := range elems {
			et, err := c.typeOf(asMap(e), stack)
			if err != nil {
				return nil, err
			}
			if et.Type != "string" || len(et.AllowedValues) != 1 {
				return &TypeDef{Type: "any"}, nil
			}
			t.AllowedValues = append(t.AllowedValues, et.AllowedValues[0])
		}
		return t, nil
	case "ObjectType":
		t := &TypeDef{Type: "object"}
		for _, s := range stack {
			if s == i || len(stack) >= maxTypeDepth {
				return t, nil
			}
		}
		stack = append(stack, i)
		t.Properties = map[string]*TypeDef{}
		for name, praw := range asMap(raw["properties"]) {
			p := asMap(praw)
			pt, err := c.typeOf(asMap(p["type"]), stack)
			if err != nil {
				return nil, fmt.Errorf("property %s: %w", name, err)
			}
			flags, _ := p["flags"].(float64)
			f := int(flags)
			pt.Required = f&graphFlagRequired != 0
			pt.ReadOnly = f&graphFlagReadOnly != 0
			pt.WriteOnly = f&graphFlagWrite != 0
			t.Properties[name] = pt
		}
		if ap, ok := raw["additionalProperties"]; ok && ap != nil {
			t.Open = true
		}
		return t, nil
	}
	return nil, fmt.Errorf("type #/%d has unknown kind %v", i, raw["$type"])
}
