//! Garment pictures drawn by Atelier: one SVG silhouette per shape, filled
//! with the variant's colour.

use axum::{
    extract::{Path, Query},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

const SHAPES: &[(&str, &str)] = &[
    ("tshirt", "M70 40 L100 28 Q120 44 140 28 L170 40 L200 80 L172 96 L164 84 L164 210 L76 210 L76 84 L68 96 L40 80 Z"),
    (
        "shirt",
        "M72 40 L104 28 L120 52 L136 28 L168 40 L196 150 L174 156 L162 100 L162 212 L78 212 L78 100 L66 156 L44 150 Z M120 52 L120 212",
    ),
    ("jeans", "M78 30 L162 30 L172 214 L132 214 L120 96 L108 214 L68 214 Z"),
    ("shorts", "M74 50 L166 50 L180 160 L130 166 L120 110 L110 166 L60 160 Z"),
    (
        "hoodie",
        "M96 44 Q120 6 144 44 L176 56 L204 170 L180 176 L166 110 L166 214 L74 214 L74 110 L60 176 L36 170 L64 56 Z M100 150 L140 150 L146 180 L94 180 Z",
    ),
    (
        "sweater",
        "M72 42 L104 32 Q120 46 136 32 L168 42 L202 172 L178 178 L164 104 L164 212 L76 212 L76 104 L62 178 L38 172 Z",
    ),
    (
        "jacket",
        "M70 42 L106 30 L120 70 L134 30 L170 42 L200 176 L176 182 L164 110 L164 214 L76 214 L76 110 L64 182 L40 176 Z M120 70 L120 214",
    ),
    (
        "coat",
        "M74 36 L106 26 L120 66 L134 26 L166 36 L198 210 L176 214 L166 120 L170 226 L70 226 L74 120 L64 214 L42 210 Z M120 66 L120 226",
    ),
    ("dress", "M96 30 L108 30 Q120 46 132 30 L144 30 L150 90 L192 220 L48 220 L90 90 Z"),
    ("skirt", "M86 60 L154 60 L190 196 L50 196 Z"),
    ("cap", "M56 140 Q60 70 120 66 Q180 70 184 140 Z M150 140 L214 150 L210 160 L146 152 Z"),
    ("socks", "M92 30 L132 30 L132 150 L176 176 Q190 196 170 208 L110 208 Q92 200 92 180 Z"),
];

#[derive(Deserialize)]
pub struct ColorQuery {
    #[serde(default)]
    color: String,
}

/// Colour names of the catalogue to fills; anything else is grey.
fn fill(color: &str) -> &'static str {
    match color.trim().to_lowercase().as_str() {
        "white" | "cream" => "#f4f1ea",
        "black" => "#23232a",
        "navy" => "#26345a",
        "blue" => "#3d6fb6",
        "gray" | "grey" => "#8c8f96",
        "charcoal" => "#4a4d55",
        "red" => "#c2413b",
        "burgundy" => "#7a2335",
        "pink" => "#e7a1b4",
        "orange" => "#e08a3c",
        "yellow" => "#e9c44a",
        "green" => "#3f7d55",
        "olive" => "#6f7442",
        "sand" | "beige" => "#d8c39b",
        "camel" => "#b98a55",
        "gold" => "#c9a227",
        _ => "#9aa0a6",
    }
}

pub async fn garment(Path(file): Path<String>, Query(q): Query<ColorQuery>) -> Response {
    let Some(shape) = file.strip_suffix(".svg").and_then(|s| SHAPES.iter().find(|(name, _)| *name == s)) else {
        return (StatusCode::NOT_FOUND, "no such image").into_response();
    };
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 240" role="img"><rect width="240" height="240" fill="#f3efe8"/><path d="{}" fill="{}" stroke="#1d1d22" stroke-opacity=".35" stroke-width="3" stroke-linejoin="round"/></svg>"##,
        shape.1,
        fill(&q.color)
    );
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg).into_response()
}
