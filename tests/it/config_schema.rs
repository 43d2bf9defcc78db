//! docs/proctor.schema.json, the JSON Schema editors use to complete and check proctor.toml,
//! agrees with proctor: every proctor.toml in the fixtures that proctor reads without a W001
//! validates, and the invalid ones the schema can see (an unknown table, a misspelt key, a
//! value of the wrong type) are rejected by both.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;

use crate::support::root;

/// TOML as the JSON an editor's TOML support validates: dates and times become strings.
fn to_json(v: &toml::Value) -> Json {
    match v {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        toml::Value::Float(f) => Json::from(*f),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(a) => Json::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Json::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

fn validator() -> jsonschema::Validator {
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/proctor.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

fn configs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            configs(&p, out);
        } else if p.file_name().is_some_and(|n| n == "proctor.toml") {
            out.push(p);
        }
    }
}

/// Whether proctor reports W001 (an invalid proctor.toml) for the workspace of `config`.
fn proctor_rejects(config: &Path) -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_proctor"))
        .args(["check", "--no-cache", "--format", "json", "--config"])
        .arg(config)
        .current_dir(config.parent().unwrap())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("\"code\": \"W001\"")
}

#[test]
fn every_fixture_config_proctor_accepts_validates() {
    let v = validator();
    let mut all = Vec::new();
    configs(&root().join("fixtures"), &mut all);
    assert!(all.len() > 20, "{all:?}");
    let mut accepted = 0;
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap();
        let Ok(value) = text.parse::<toml::Table>() else {
            continue; // not TOML at all: proctor's W001, nothing for a schema to say
        };
        let json = to_json(&toml::Value::Table(value));
        let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
        if !proctor_rejects(path) {
            accepted += 1;
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
    }
    assert!(accepted > 20, "{accepted}");
}

#[test]
fn mistakes_an_editor_can_see_are_rejected() {
    let v = validator();
    for (toml_text, why) in [
        ("[[enviroment]]\nname = \"dev\"\n", "enviroment"),
        (
            "[[environment]]\nname = \"dev\"\ntemplate = \"env:1\"\n",
            "spec",
        ),
        ("[policies]\nbuiltin = \"yes\"\n", "boolean"),
        ("[check]\nignore = [\"i003\"]\n", "i003"),
        (
            "[[environment]]\nname = \"dev\"\ntemplate = \"env:1\"\nspec = \"d.yaml\"\naccount_id = \"12\"\n",
            "12",
        ),
        (
            "[[waiver]]\nrule = \"r\"\ndeployment = \"d\"\nreason = \"x\"\nowner = \"o\"\nexpires = 2027-03-31T10:00:00\n",
            "2027-03-31T10:00:00",
        ),
    ] {
        let Ok(table) = toml_text.parse::<toml::Table>() else {
            panic!("not TOML: {toml_text}");
        };
        let json = to_json(&toml::Value::Table(table));
        let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(
            errors.iter().any(|e| e.contains(why)),
            "{toml_text}: expected an error about {why}, got {errors:?}"
        );
    }
}
