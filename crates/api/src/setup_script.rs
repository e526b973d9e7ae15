//! The UEBA setup script served by `GET /connection-manager/api/v1/ueba/setup-script/{id}`:
//! in PrivX it installs the UEBA server; here it points a client machine at this workbench.

/// The script for a listener at `url`, embedding the CA certificate clients must trust.
pub fn render(url: &str, ca_pem: Option<&str>) -> String {
    let (host, port) = host_and_port(url);
    let ca_block = match ca_pem {
        Some(pem) => format!(
            r#"mkdir -p "$CONF_DIR"
cat > "$CONF_DIR/ca.pem" <<'UEBA_WORKBENCH_CA'
{pem}UEBA_WORKBENCH_CA
echo "CA certificate saved to $CONF_DIR/ca.pem"
CURL_CA=(--cacert "$CONF_DIR/ca.pem")
"#,
            pem = if pem.ends_with('\n') {
                pem.to_owned()
            } else {
                format!("{pem}\n")
            }
        ),
        None => "CURL_CA=()\necho \"The listener speaks plain HTTP (loopback only); no CA certificate is needed.\"\n".to_owned(),
    };
    format!(
        r#"#!/usr/bin/env bash
# UEBA Workbench setup script.
#
# Points the scripts and SDKs that talk to a PrivX UEBA service at this UEBA Workbench listener:
#   - saves the workbench's local CA certificate (HTTPS) to ~/.config/ueba-workbench/ca.pem,
#   - checks that the listener answers,
#   - prints the settings for the PrivX Go and Python SDKs and for curl.
#
# Credentials are not part of this script: create an account and an OAuth client on the
# workbench (Settings page, or `ueba-workbench user add NAME --role admin --password-stdin` and
# `ueba-workbench oauth-client add NAME`) and put them in the SDK configuration yourself.
set -euo pipefail

UEBA_WORKBENCH_URL="{url}"
CONF_DIR="${{XDG_CONFIG_HOME:-$HOME/.config}}/ueba-workbench"

{ca_block}
if command -v curl >/dev/null 2>&1; then
    if curl -fsS "${{CURL_CA[@]}}" -o /dev/null "$UEBA_WORKBENCH_URL/openapi.json"; then
        echo "Listener reachable at $UEBA_WORKBENCH_URL"
    else
        echo "Listener not reachable at $UEBA_WORKBENCH_URL: is 'ueba-workbench serve' running?" >&2
    fi
fi

cat <<UEBA_INFO

Token endpoint:  $UEBA_WORKBENCH_URL/auth/api/v1/oauth/token
UEBA API:        $UEBA_WORKBENCH_URL/connection-manager/api/v1/ueba/
OpenAPI:         $UEBA_WORKBENCH_URL/openapi.json

PrivX Go SDK (config.toml):
  [api]
  base_url = "$UEBA_WORKBENCH_URL"
  api_base_certificate = "$CONF_DIR/ca.pem"
  [auth]
  api_client_id = "<account name>"
  api_client_secret = "<account password>"
  oauth_client_id = "<client_id>"
  oauth_client_secret = "<client_secret>"

PrivX Python SDK:
  api = privx_api.PrivXAPI("{host}", {port}, "$CONF_DIR/ca.pem", "<client_id>", "<client_secret>")
  api.authenticate("<account name>", "<account password>")

curl:
  TOKEN=\$(curl -s ${{CURL_CA[*]}} -u '<client_id>:<client_secret>' \
      -d grant_type=password -d username='<account>' -d password='<password>' \
      $UEBA_WORKBENCH_URL/auth/api/v1/oauth/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl ${{CURL_CA[*]}} -H "Authorization: Bearer \$TOKEN" $UEBA_WORKBENCH_URL/connection-manager/api/v1/ueba/status
UEBA_INFO
"#
    )
}

fn host_and_port(url: &str) -> (String, u16) {
    let tls = url.starts_with("https://");
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let default = if tls { 443 } else { 80 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => (
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port.parse().unwrap_or(default),
        ),
        _ => (authority.to_owned(), default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    #[test]
    fn the_script_names_the_listener_and_embeds_the_ca() {
        let script = render("https://127.0.0.1:8443", Some(PEM));
        assert!(script.starts_with("#!/usr/bin/env bash"));
        assert!(script.contains("UEBA_WORKBENCH_URL=\"https://127.0.0.1:8443\""));
        assert!(script.contains(&format!("{PEM}UEBA_WORKBENCH_CA")));
        assert!(script.contains("PrivXAPI(\"127.0.0.1\", 8443,"));
        let plain = render("http://127.0.0.1:8080", None);
        assert!(plain.contains("no CA certificate is needed"));
    }

    #[test]
    fn the_script_runs_and_saves_the_ca() {
        let script = render("https://127.0.0.1:1", Some(PEM));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("setup.sh");
        std::fs::write(&path, script).expect("write");
        let Ok(output) = std::process::Command::new("bash")
            .arg(&path)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("PATH", "/usr/bin:/bin")
            .output()
        else {
            return; // no bash on this machine
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let saved =
            std::fs::read_to_string(dir.path().join("ueba-workbench/ca.pem")).expect("ca saved");
        assert_eq!(saved, PEM);
        assert!(String::from_utf8_lossy(&output.stdout).contains("/auth/api/v1/oauth/token"));
    }
}
