//! Object stores: `s3://` (any S3-compatible endpoint), `gs://`, `az://`, by URL prefix.
//!
//! Credentials come from the environment (standard `AWS_*`, `GOOGLE_*`, `AZURE_*`
//! variables, or the variables a `[[stores]]` entry names); nothing secret is read from
//! the config file. Retries are short so that an endpoint that refuses fails in seconds,
//! not minutes.

use std::sync::Arc;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use url::Url;

use crate::config::{Config, StoreConfig};
use crate::error::{Error, Result};

/// Registers the object store a location needs, if it is remote and not yet registered.
pub fn ensure_store_for(ctx: &SessionContext, config: &Config, location: &str) -> Result<()> {
    let Ok(url) = Url::parse(location) else {
        return Ok(()); // a local path
    };
    if matches!(url.scheme(), "file") || url.scheme().len() == 1 {
        return Ok(()); // file:// or a Windows drive letter
    }
    let Some(bucket) = url.host_str() else {
        return Err(Error::Store {
            url: location.to_string(),
            message: "the URL has no bucket".into(),
        });
    };
    let base = format!("{}://{bucket}", url.scheme());
    let base_url = Url::parse(&base).map_err(|e| Error::Store {
        url: base.clone(),
        message: e.to_string(),
    })?;
    let store_url = datafusion::execution::object_store::ObjectStoreUrl::parse(&base)?;
    if ctx.runtime_env().object_store(&store_url).is_ok() {
        return Ok(());
    }
    let store_config = config
        .stores
        .iter()
        .find(|s| s.url.trim_end_matches('/') == base)
        .cloned()
        .unwrap_or_else(|| StoreConfig {
            url: base.clone(),
            ..StoreConfig::default()
        });
    let store =
        build_store(&store_config, url.scheme(), bucket).map_err(|message| Error::Store {
            url: base.clone(),
            message,
        })?;
    ctx.register_object_store(&base_url, store);
    Ok(())
}

fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(15),
        ..RetryConfig::default()
    }
}

fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(60))
        .with_allow_http(allow_http)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn build_store(
    config: &StoreConfig,
    scheme: &str,
    bucket: &str,
) -> std::result::Result<Arc<dyn ObjectStore>, String> {
    match scheme {
        "s3" | "s3a" => {
            let loopback = config.endpoint.as_deref().is_some_and(is_loopback_http);
            let allow_http = config.allow_http.unwrap_or(loopback);
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry())
                .with_client_options(client_options(allow_http))
                .with_virtual_hosted_style_request(!config.path_style)
                .with_skip_signature(config.skip_signature);
            if let Some(endpoint) = &config.endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some(region) = &config.region {
                builder = builder.with_region(region);
            }
            let key_env = config
                .access_key_id_env
                .as_deref()
                .unwrap_or("AWS_ACCESS_KEY_ID");
            let secret_env = config
                .secret_access_key_env
                .as_deref()
                .unwrap_or("AWS_SECRET_ACCESS_KEY");
            if let Some(key) = env(key_env) {
                builder = builder.with_access_key_id(key);
            } else if config.access_key_id_env.is_some() {
                return Err(format!("environment variable {key_env} is not set"));
            }
            if let Some(secret) = env(secret_env) {
                builder = builder.with_secret_access_key(secret);
            } else if config.secret_access_key_env.is_some() {
                return Err(format!("environment variable {secret_env} is not set"));
            }
            let store = builder.build().map_err(|e| e.to_string())?;
            Ok(Arc::new(store))
        }
        "gs" => {
            let store = GoogleCloudStorageBuilder::from_env()
                .with_bucket_name(bucket)
                .with_retry(retry())
                .with_client_options(client_options(false))
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Arc::new(store))
        }
        "az" | "abfs" | "abfss" => {
            let store = MicrosoftAzureBuilder::from_env()
                .with_container_name(bucket)
                .with_retry(retry())
                .with_client_options(client_options(false))
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Arc::new(store))
        }
        other => Err(format!(
            "unsupported scheme '{other}': use a local path, file://, s3://, gs:// or az://"
        )),
    }
}

fn is_loopback_http(endpoint: &str) -> bool {
    Url::parse(endpoint).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_on_loopback_by_default() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000"));
        assert!(!is_loopback_http("http://oss-cn-hangzhou.aliyuncs.com"));
        assert!(!is_loopback_http("https://127.0.0.1:9000"));
    }

    #[test]
    fn missing_named_credentials_are_reported() {
        let config = StoreConfig {
            url: "s3://b".into(),
            access_key_id_env: Some("PLINKDB_TEST_SURELY_UNSET_KEY".into()),
            ..StoreConfig::default()
        };
        let err = build_store(&config, "s3", "b").err().unwrap();
        assert!(err.contains("PLINKDB_TEST_SURELY_UNSET_KEY"), "{err}");
    }

    #[test]
    fn local_paths_need_no_store() {
        let ctx = SessionContext::new();
        ensure_store_for(&ctx, &Config::default(), "/tmp/x").unwrap();
        ensure_store_for(&ctx, &Config::default(), "file:///tmp/x").unwrap();
        let err = ensure_store_for(&ctx, &Config::default(), "ftp://host/x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unsupported scheme 'ftp'"), "{err}");
    }
}
