package clientcfg

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteText writes the recipes of servers for a terminal, server by
// server; clients, when not empty, keeps only those client ids.
func WriteText(w io.Writer, servers []Server, clients []string) error {
	for _, id := range clients {
		if !slices.Contains(clientIDs(), id) {
			return fmt.Errorf("clientcfg: unknown client %q; the clients are %s", id, strings.Join(clientIDs(), ", "))
		}
	}
	for i, s := range servers {
		rs, err := Recipes(s)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "==> %s  %s  (%s)\n", s.Name, s.URL, authText(s))
		for _, r := range rs {
			if len(clients) > 0 && !slices.Contains(clients, r.Client) {
				continue
			}
			fmt.Fprintf(w, "\n--- %s: %s\n%s\n", ClientName(r.Client), r.Where, r.Text)
			for _, n := range r.Notes {
				fmt.Fprintf(w, "  * %s\n", n)
			}
		}
	}
	return nil
}

func clientIDs() []string {
	var ids []string
	for _, c := range Clients() {
		ids = append(ids, c.ID)
	}
	return ids
}

func authText(s Server) string {
	switch s.Auth {
	case Key:
		return "key: the Functions host requires a function key"
	case Entra:
		return "entra: sign in with Microsoft Entra ID"
	}
	return "anonymous"
}

// README markers: the text between them is Markdown(ReadmeExamples()).
const (
	readmeBegin = "<!-- begin: client recipes, written by go tool mage clients -readme; do not edit -->"
	readmeEnd   = "<!-- end: client recipes -->"
)

// ReadmeExamples are the servers README's client sections show: weather,
// deployed, in each auth mode.
func ReadmeExamples() []Server {
	const url = "https://func-weather-<suffix>.azurewebsites.net/mcp"
	return []Server{
		{Name: "weather", URL: url, Auth: Anonymous, Deployed: true},
		{Name: "weather", URL: url, Auth: Key, Deployed: true},
		{Name: "weather", URL: url, Auth: Entra, Deployed: true},
	}
}

// Markdown renders one section per client, each with the recipe of every
// example server (one per auth mode).
func Markdown(examples []Server) (string, error) {
	byServer := make([][]Recipe, len(examples))
	for i, s := range examples {
		rs, err := Recipes(s)
		if err != nil {
			return "", err
		}
		byServer[i] = rs
	}
	var b strings.Builder
	for ci, c := range Clients() {
		fmt.Fprintf(&b, "### %s\n", c.Name)
		for i, s := range examples {
			r := byServer[i][ci]
			if i == 0 {
				fmt.Fprintf(&b, "\nWhere: %s.\n", r.Where)
			}
			fmt.Fprintf(&b, "\n**%s**\n\n```%s\n%s\n```\n", authText(s), r.Lang, r.Text)
			for _, n := range r.Notes {
				fmt.Fprintf(&b, "- %s\n", n)
			}
		}
		if ci < len(Clients())-1 {
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

// UpdateReadme returns readme with the text between its client recipe
// markers replaced by Markdown(ReadmeExamples()).
func UpdateReadme(readme []byte) ([]byte, error) {
	i := bytes.Index(readme, []byte(readmeBegin))
	j := bytes.Index(readme, []byte(readmeEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("clientcfg: README has no %q … %q markers", readmeBegin, readmeEnd)
	}
	md, err := Markdown(ReadmeExamples())
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(readme[:i+len(readmeBegin)])
	out.WriteString("\n")
	out.WriteString(md)
	out.Write(readme[j:])
	return out.Bytes(), nil
}
