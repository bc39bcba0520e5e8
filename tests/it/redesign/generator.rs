//! A redesign generator for tests: the ministry's pages rebuilt as a new site would serve them,
//! with the same text. Every class and id is new; the body moves into new containers among new
//! chrome (menus, related links, share bars, footers with paragraphs of their own, a language
//! switcher); paragraphs become `<p>`s, `<div>`s or `<br>`-separated lines; title and time sit in
//! new elements. Listings likewise, with their pager as a script or as links.
//!
//! The template (layout, paragraph style, where the time goes) follows from the seed, so that
//! every page of one redesigned site shares it, as on a real site; small things (how many related
//! links, which labels are bold) vary from page to page.

use std::collections::HashMap;
use std::path::Path;

use briefwatch::charset::decode_html;
use briefwatch::model::{Lang, Listing};
use briefwatch::site::{Profile, block_paragraphs, is_listing_url, is_soft_404};
use chrono::{DateTime, FixedOffset, Timelike};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use scraper::{Html, Selector};

/// How a redesigned site is built.
#[derive(Debug, Clone, Copy)]
struct Template {
    layout: u8,
    paragraphs: ParagraphStyle,
    time: u8,
    title: u8,
    semantic_chrome: bool,
    pager_script: bool,
    nesting: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParagraphStyle {
    P,
    Div,
    BrLines,
    Mixed,
    Grouped,
}

/// One redesign: a seed's template and class names.
pub struct Redesign {
    seed: u64,
    template: Template,
    classes: std::cell::RefCell<HashMap<&'static str, String>>,
}

impl Redesign {
    pub fn new(seed: u64) -> Redesign {
        let mut rng = StdRng::seed_from_u64(seed);
        let styles = [
            ParagraphStyle::P,
            ParagraphStyle::Div,
            ParagraphStyle::BrLines,
            ParagraphStyle::Mixed,
            ParagraphStyle::Grouped,
        ];
        let template = Template {
            layout: (seed % 3) as u8,
            paragraphs: styles[(seed as usize / 3 + rng.gen_range(0..5)) % 5],
            time: rng.gen_range(0..4),
            title: rng.gen_range(0..3),
            semantic_chrome: rng.gen_bool(0.5),
            pager_script: rng.gen_bool(0.5),
            nesting: rng.gen_range(1..4),
        };
        Redesign {
            seed,
            template,
            classes: Default::default(),
        }
    }

    /// A new class name for a role, the same on every page of this redesign.
    fn class(&self, role: &'static str) -> String {
        let mut classes = self.classes.borrow_mut();
        classes
            .entry(role)
            .or_insert_with(|| {
                let mut rng = self.rng_for(role);
                let letters: String = (0..6)
                    .map(|_| (b'a' + rng.gen_range(0..26)) as char)
                    .collect();
                format!("{letters}-{}", rng.gen_range(10..99))
            })
            .clone()
    }

    fn page_rng(&self, url: &str) -> StdRng {
        self.rng_for(url)
    }

    fn rng_for(&self, key: &str) -> StdRng {
        let hash = key
            .bytes()
            .fold(self.seed ^ 0x9e37_79b9_7f4a_7c15, |hash, byte| {
                hash.rotate_left(5) ^ u64::from(byte)
            });
        StdRng::seed_from_u64(hash)
    }

    /// The article page redesigned, or `None` when the original page is no article the
    /// built-in profiles read.
    pub fn article(&self, html: &str, url: &str) -> Option<String> {
        let profile = Profile::detect(url, html).ok()?;
        let briefing = profile.parse_article(html, url).ok()?;
        let selector = Selector::parse(briefing.selector.as_deref()?).ok()?;
        let document = Html::parse_document(html);
        let paragraphs = document
            .select(&selector)
            .map(block_paragraphs)
            .find(|paragraphs| !paragraphs.is_empty())?;
        let mut rng = self.page_rng(url);
        let lang = briefing.lang;
        let body = self.body(&paragraphs, &mut rng);
        let time = briefing.published_at.map(|time| self.time(time));
        let title = self.title(&briefing.title);
        let share = self.share(lang);
        let head = self.head(&briefing.title, lang, briefing.published_at);
        let article = match self.template.layout {
            0 => format!(
                "<article class=\"{}\">{title}{}{body}{share}</article>",
                self.class("article"),
                time.clone().unwrap_or_default()
            ),
            1 => format!(
                "<div class=\"{}\"><div class=\"{}\">{}</div>{title}{}<div class=\"{}\">{body}</div>{share}</div>",
                self.class("article"),
                self.class("crumbs"),
                self.crumbs(lang),
                time.clone().unwrap_or_default(),
                self.class("text-frame")
            ),
            _ => format!(
                "<section class=\"{}\"><div class=\"{}\">{title}</div><div class=\"{}\">{}</div>{body}<div class=\"{}\">{share}</div></section>",
                self.class("article"),
                self.class("heading"),
                self.class("meta"),
                time.clone().unwrap_or_default(),
                self.class("tools")
            ),
        };
        let related = self.related(lang, &mut rng);
        Some(self.page(lang, &head, &article, &related, &mut rng))
    }

    /// The listing page redesigned, or `None` when the built-in profiles read no items in it.
    pub fn listing(&self, html: &str, url: &str) -> Option<String> {
        let profile = Profile::detect(url, html).ok()?;
        let listing = profile.parse_listing(html, url).ok()?;
        let mut rng = self.page_rng(url);
        let lang = profile.lang;
        let page = url
            .rsplit_once('_')
            .and_then(|(_, tail)| tail.split('.').next()?.parse::<u32>().ok())
            .unwrap_or(0);
        let list = self.items(&listing, url);
        let pager = self.pager(&listing, page, url);
        let head = format!(
            "<head><meta charset=\"utf-8\"><title>{}</title></head>",
            match lang {
                Lang::En => "Press Conferences | MFA",
                Lang::Zh => "发言人表态 | 外交部",
            }
        );
        let content = format!(
            "<div class=\"{}\"><h2 class=\"{}\">{}</h2>{list}{pager}</div>",
            self.class("column"),
            self.class("column-title"),
            match lang {
                Lang::En => "Regular Press Conferences",
                Lang::Zh => "发言人表态",
            }
        );
        // A column page has menus around it but no box of related articles.
        Some(self.page(lang, &head, &content, "", &mut rng))
    }

    fn head(&self, title: &str, lang: Lang, published: Option<DateTime<FixedOffset>>) -> String {
        let site = match lang {
            Lang::En => "Ministry of Foreign Affairs",
            Lang::Zh => "外交部",
        };
        let title_tag = match self.seed % 4 {
            0 => format!("{} | {site}", escape(title)),
            1 => format!("{site} - {}", escape(title)),
            2 => format!("{} — {site}", escape(title)),
            _ => escape(title),
        };
        let meta = match (self.template.time, published) {
            (3, Some(time)) => format!(
                "<meta property=\"article:published_time\" content=\"{}\">",
                time.to_rfc3339()
            ),
            _ => String::new(),
        };
        format!("<head><meta charset=\"utf-8\"><title>{title_tag}</title>{meta}</head>")
    }

    fn title(&self, title: &str) -> String {
        let class = self.class("title");
        match self.template.title {
            0 => format!("<h1 class=\"{class}\">{}</h1>", escape(title)),
            1 => format!("<div class=\"{class}\"><h2>{}</h2></div>", escape(title)),
            _ => format!("<h1 class=\"{class}\"><span>{}</span></h1>", escape(title)),
        }
    }

    fn time(&self, time: DateTime<FixedOffset>) -> String {
        let class = self.class("time");
        let date_only = time.hour() == 0 && time.minute() == 0;
        let shown = if date_only {
            time.format("%Y-%m-%d").to_string()
        } else {
            time.format("%Y-%m-%d %H:%M").to_string()
        };
        match self.template.time {
            0 => format!(
                "<time class=\"{class}\" datetime=\"{}\">{}</time>",
                time.to_rfc3339(),
                time.format("%-d %B %Y")
            ),
            1 => format!("<div class=\"{class}\"><span>{shown}</span></div>"),
            2 => format!("<p class=\"{class}\">{shown}</p>"),
            // The time is in a meta tag of the head.
            _ => String::new(),
        }
    }

    /// The transcript's paragraphs in new markup, inside nested containers.
    fn body(&self, paragraphs: &[String], rng: &mut StdRng) -> String {
        let class = self.class("paragraph");
        let mut inner = String::new();
        let paragraph = |text: &str, rng: &mut StdRng, tag: &str| {
            format!("<{tag} class=\"{class}\">{}</{tag}>", inline(text, rng))
        };
        match self.template.paragraphs {
            ParagraphStyle::P => {
                for text in paragraphs {
                    inner.push_str(&paragraph(text, rng, "p"));
                }
            }
            ParagraphStyle::Div => {
                for text in paragraphs {
                    inner.push_str(&paragraph(text, rng, "div"));
                }
            }
            ParagraphStyle::Mixed => {
                for text in paragraphs {
                    let tag = if rng.gen_bool(0.5) { "p" } else { "div" };
                    inner.push_str(&paragraph(text, rng, tag));
                }
            }
            ParagraphStyle::BrLines => {
                let lines: Vec<String> = paragraphs.iter().map(|text| inline(text, rng)).collect();
                inner.push_str(&format!(
                    "<div class=\"{class}\">{}</div>",
                    lines.join("<br>\n<br>")
                ));
            }
            ParagraphStyle::Grouped => {
                let mut rest = paragraphs;
                while !rest.is_empty() {
                    let take = rng.gen_range(2..7).min(rest.len());
                    inner.push_str(&format!("<div class=\"{}\">", self.class("group")));
                    for text in &rest[..take] {
                        inner.push_str(&paragraph(text, rng, "p"));
                    }
                    inner.push_str("</div>");
                    rest = &rest[take..];
                }
            }
        }
        let mut body = inner;
        for (level, tag) in ["div", "section", "div"]
            .iter()
            .take(self.template.nesting as usize)
            .enumerate()
        {
            let role = ["body", "body-outer", "body-frame"][level];
            body = format!("<{tag} class=\"{}\">{body}</{tag}>", self.class(role));
        }
        body
    }

    fn share(&self, lang: Lang) -> String {
        let (label, links) = match lang {
            Lang::En => (
                "Share:",
                ["Weibo", "WeChat", "Print", "Suggest to a friend"],
            ),
            Lang::Zh => ("分享到：", ["微博", "微信", "打印", "关闭窗口"]),
        };
        let links: String = links
            .iter()
            .map(|text| format!("<a href=\"javascript:void(0)\">{text}</a> "))
            .collect();
        format!(
            "<div class=\"{}\">{label} {links}</div>",
            self.class("share")
        )
    }

    fn crumbs(&self, lang: Lang) -> String {
        match lang {
            Lang::En => "<a href=\"/\">Home</a> &gt; <a href=\"../\">News</a> &gt; <a href=\"./\">Press Conferences</a>".to_string(),
            Lang::Zh => "<a href=\"/\">首页</a> &gt; <a href=\"../\">外交动态</a> &gt; <a href=\"./\">发言人表态</a>".to_string(),
        }
    }

    fn related(&self, lang: Lang, rng: &mut StdRng) -> String {
        let count = rng.gen_range(2..5);
        let mut items = String::new();
        for index in 0..count {
            let day = rng.gen_range(1..28);
            let title = match lang {
                Lang::En => format!(
                    "Foreign Ministry Spokesperson Hua Chunying's Regular Press Conference on March {day}, 2019"
                ),
                Lang::Zh => format!("2019年3月{day}日外交部发言人华春莹主持例行记者会"),
            };
            items.push_str(&format!(
                "<li><a href=\"./t16{index}{day:02}00.shtml\">{title}</a></li>"
            ));
        }
        let heading = match lang {
            Lang::En => "Related News",
            Lang::Zh => "相关新闻",
        };
        let tag = if self.template.semantic_chrome {
            "aside"
        } else {
            "div"
        };
        format!(
            "<{tag} class=\"{}\"><h3>{heading}</h3><ul>{items}</ul></{tag}>",
            self.class("related")
        )
    }

    /// The whole page: chrome around `content`.
    fn page(
        &self,
        lang: Lang,
        head: &str,
        content: &str,
        related: &str,
        rng: &mut StdRng,
    ) -> String {
        let (nav_tag, footer_tag) = if self.template.semantic_chrome {
            ("nav", "footer")
        } else {
            ("div", "div")
        };
        let languages = match lang {
            Lang::En => {
                "<a href=\"/ara/\">عربي</a> <a href=\"/esp/\">Español</a> <a href=\"/rus/\">Русский</a> <a href=\"/fra/\">Français</a> <a href=\"/\">简体中文</a>"
            }
            Lang::Zh => {
                "<a href=\"/eng/\">English</a> <a href=\"/fra/\">Français</a> <a href=\"/rus/\">Русский</a> <a href=\"/esp/\">Español</a> <a href=\"/ara/\">عربي</a>"
            }
        };
        let menu = match lang {
            Lang::En => [
                "Home",
                "News",
                "Spokesperson's Remarks",
                "Diplomatic Activities",
                "About Us",
            ],
            Lang::Zh => ["首页", "外交动态", "发言人表态", "外交部长", "关于我们"],
        };
        let menu: String = menu
            .iter()
            .map(|item| format!("<li><a href=\"/{}\">{item}</a></li>", rng.gen_range(1..99)))
            .collect();
        let footer = match lang {
            Lang::En => {
                "<p>Copyright © 1998-2026 Ministry of Foreign Affairs of the People's Republic of China. All rights reserved.</p><p>Address: No. 2, Chaoyangmen Nandajie, Chaoyang District, Beijing, 100701. Tel: 86-10-65961114.</p><p>For questions about this website, please write to the webmaster; we answer within three working days.</p>"
            }
            Lang::Zh => {
                "<p>版权所有：中华人民共和国外交部。未经许可，不得转载本网站内容。</p><p>地址：北京市朝阳区朝阳门南大街2号，邮编：100701，电话：86-10-65961114。</p><p>网站如有问题，请致信网站管理员，我们将在三个工作日内答复。</p>"
            }
        };
        let lang_attr = lang.as_str();
        let top = format!(
            "<div class=\"{}\"><div class=\"{}\">{languages}</div><{nav_tag} class=\"{}\"><ul>{menu}</ul></{nav_tag}></div>",
            self.class("top"),
            self.class("languages"),
            self.class("menu")
        );
        let bottom = format!(
            "<{footer_tag} class=\"{}\">{footer}<div><a href=\"/contact\">Contact</a> | <a href=\"/sitemap\">Sitemap</a></div></{footer_tag}>",
            self.class("footer")
        );
        let middle = match self.template.layout {
            0 => format!(
                "<main class=\"{}\">{content}{related}</main>",
                self.class("main")
            ),
            1 => format!(
                "<div class=\"{}\"><div class=\"{}\">{related}</div><div class=\"{}\">{content}</div></div>",
                self.class("columns"),
                self.class("side"),
                self.class("wide")
            ),
            _ => format!(
                "<div class=\"{}\"><div class=\"{}\"><div class=\"{}\">{content}</div></div>{related}</div>",
                self.class("wrap"),
                self.class("wrap-inner"),
                self.class("primary")
            ),
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"{lang_attr}\">{head}<body class=\"{}\">{top}{middle}{bottom}<script>var track = 1;</script></body></html>\n",
            self.class("page")
        )
    }

    fn items(&self, listing: &Listing, listing_url: &str) -> String {
        let base = url::Url::parse(listing_url).ok();
        let mut rows = String::new();
        for item in &listing.items {
            let href = relative_href(base.as_ref(), &item.url);
            let date = item
                .date
                .map(|date| {
                    format!(
                        "<span class=\"{}\">{}</span>",
                        self.class("item-date"),
                        date.format("%Y-%m-%d")
                    )
                })
                .unwrap_or_default();
            rows.push_str(&match self.template.layout {
                0 => format!(
                    "<li><a href=\"{href}\">{}</a>{date}</li>",
                    escape(&item.title)
                ),
                1 => format!(
                    "<div class=\"{}\"><a href=\"{href}\">{}</a> {date}</div>",
                    self.class("row"),
                    escape(&item.title)
                ),
                _ => format!(
                    "<li class=\"{}\"><div><a href=\"{href}\"><span>{}</span></a></div>{date}</li>",
                    self.class("row"),
                    escape(&item.title)
                ),
            });
        }
        match self.template.layout {
            1 => format!("<div class=\"{}\">{rows}</div>", self.class("list")),
            _ => format!("<ul class=\"{}\">{rows}</ul>", self.class("list")),
        }
    }

    fn pager(&self, listing: &Listing, page: u32, listing_url: &str) -> String {
        let Some(count) = listing.page_count else {
            return String::new();
        };
        if self.template.pager_script {
            return format!(
                "<div class=\"{}\"><script>var countPage = {count}; var currentPage = {page};</script></div>",
                self.class("pager")
            );
        }
        let extension = if listing_url.ends_with(".html") {
            "html"
        } else {
            "shtml"
        };
        let stem = if listing_url.contains("/index") || listing_url.ends_with('/') {
            "index"
        } else {
            "default"
        };
        let mut links = String::new();
        for target in [
            Some(0),
            page.checked_sub(1),
            Some(page + 1),
            Some(count - 1),
        ]
        .into_iter()
        .flatten()
        .filter(|target| *target < count)
        {
            let file = if target == 0 {
                format!("{stem}.{extension}")
            } else {
                format!("{stem}_{target}.{extension}")
            };
            links.push_str(&format!("<a href=\"{file}\">{}</a> ", target + 1));
        }
        format!("<div class=\"{}\">{links}</div>", self.class("pager"))
    }
}

/// `text` with a speaker label sometimes in bold, escaped.
fn inline(text: &str, rng: &mut StdRng) -> String {
    let label_end = text
        .char_indices()
        .take(40)
        .find(|(_, c)| *c == ':' || *c == '：')
        .map(|(index, c)| index + c.len_utf8());
    match label_end {
        Some(end) if rng.gen_bool(0.5) => {
            format!(
                "<strong>{}</strong>{}",
                escape(&text[..end]),
                escape(&text[end..])
            )
        }
        _ => escape(text),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn relative_href(base: Option<&url::Url>, target: &str) -> String {
    let Ok(target_url) = url::Url::parse(target) else {
        return target.to_string();
    };
    match base.and_then(|base| base.make_relative(&target_url)) {
        Some(relative) if !relative.is_empty() => relative,
        _ => target_url.path().to_string(),
    }
}

/// Copies the site under `from` (a directory mirroring URL paths of `origin`) to `to`, every
/// article and listing page redesigned; other files (error page, robots.txt) as they are.
/// Returns how many pages were redesigned.
pub fn redesign_site(from: &Path, to: &Path, origin: &str, seed: u64) -> usize {
    let redesign = Redesign::new(seed);
    let mut redesigned = 0;
    let mut stack = vec![from.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("site directory") {
            let path = entry.expect("directory entry").path();
            let relative = path.strip_prefix(from).expect("under the site root");
            let target = to.join(relative);
            if path.is_dir() {
                std::fs::create_dir_all(&target).expect("create directory");
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).expect("read page");
            let name = path.to_string_lossy();
            let page = (name.ends_with(".shtml") || name.ends_with(".html"))
                .then(|| decode_html(&bytes, Some("text/html")))
                .filter(|html| !is_soft_404(html));
            let url = format!("{origin}/{}", relative.to_string_lossy().replace('\\', "/"));
            let new = page.and_then(|html| {
                if is_listing_url(&url) {
                    redesign.listing(&html, &url)
                } else {
                    redesign.article(&html, &url)
                }
            });
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).expect("create directory");
            }
            match new {
                Some(html) => {
                    redesigned += 1;
                    std::fs::write(&target, html).expect("write page")
                }
                None => std::fs::write(&target, &bytes).expect("copy page"),
            }
        }
    }
    redesigned
}
