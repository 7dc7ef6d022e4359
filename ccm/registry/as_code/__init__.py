"""Templates as code: the registry as a folder of files (`ccm templates pull DIR` / `push DIR`).

The folder format is the starter library's (`templates/README.md` describes it): `format` names its files,
`read` turns folders into create requests, `write` turns latest versions into files, `sync` pulls and pushes.
"""
