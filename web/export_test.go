package web

// CatalogueDE is the German catalogue, for the browser test's check that
// no page mixes the languages.
var CatalogueDE = catalogueDE
