//! Layered settings: defaults → `zhongshu.toml` (or `--config FILE`) → `ZHONGSHU_*` variables
//! (`__` nests: `ZHONGSHU_SECURITY__LOCKOUT_MINUTES`) → flags. Unknown variables are warned
//! about, so a typo does not silently leave a default in force.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use std::path::Path;
use zhongshu_web::Settings;

/// Flags that override every other layer.
#[derive(Default, serde::Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

const KNOWN_TOP: &[&str] = &[
    "DATA_DIR",
    "DATABASE_URL",
    "LISTEN",
    "PUBLIC_URL",
    "NODE_NAME",
    "MAX_CONNECTIONS",
    "FONTS_DIR",
    "DEMO_PASSWORD",
    "SECURITY",
    "AUDIT",
    "SIGNALS",
    "NOTIFY",
    "ATTACHMENTS",
    "TEST_PG_URL",
    "BIN",
    "LOG",
];

pub fn load(config: Option<&Path>, flags: FlagOverrides) -> Result<Settings, String> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    match config {
        Some(path) => {
            if !path.exists() {
                return Err(format!("配置文件 {} 不存在", path.display()));
            }
            figment = figment.merge(Toml::file(path));
        }
        None => figment = figment.merge(Toml::file("zhongshu.toml")),
    }
    for (key, _) in std::env::vars() {
        if let Some(rest) = key.strip_prefix("ZHONGSHU_") {
            let top = rest.split("__").next().unwrap_or_default();
            if !KNOWN_TOP.contains(&top) {
                eprintln!("警告：未知的环境变量 {key}，已忽略（见 docs/configuration.md）");
            }
        }
    }
    let env = Env::prefixed("ZHONGSHU_").split("__").filter(|key| {
        let k = key.as_str();
        !k.eq_ignore_ascii_case("test_pg_url")
            && !k.eq_ignore_ascii_case("bin")
            && !k.eq_ignore_ascii_case("log")
    });
    figment = figment.merge(env).merge(Serialized::defaults(flags));
    figment
        .extract::<Settings>()
        .map_err(|err| format!("配置有误：{err}"))
}
