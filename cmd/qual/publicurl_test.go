package main

import "testing"

func TestCheckPublicURL(t *testing.T) {
	for s, ok := range map[string]bool{
		"": true, "https://api.qual.example": true, "http://127.0.0.1:8090/": true,
		"api.qual.example": false, "ftp://api.qual.example": false, "https://api.qual.example/qual": false,
		"https://user:pw@api.qual.example": false, "https://api.qual.example?x=1": false, "https://": false,
	} {
		if err := checkPublicURL(s); (err == nil) != ok {
			t.Errorf("%q: %v", s, err)
		}
	}
}
