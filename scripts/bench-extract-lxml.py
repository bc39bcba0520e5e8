#!/usr/bin/env python3
"""Comparison point for benches/extract.rs: the same extraction written the usual Python way
(lxml + XPath), timed over the article pages of the 2020 corpus.

It does the work our extractor does: parse, find title/time/body through fallback chains, flatten
body blocks to normalized paragraphs (NFC, white space folded), cut them into opening and
exchanges by speaker labels, and hash a canonical text with SHA-256. The segmentation rules are a
simplified copy, enough to cost what the real ones cost.

Usage: BRIEFWATCH_CORPUS=../shared/corpus python3 scripts/bench-extract-lxml.py [rounds]
Needs: pip install lxml
"""

import hashlib
import os
import re
import sys
import time
import unicodedata
from pathlib import Path

from lxml import html as lxml_html

TITLE = {
    "en": ["//*[contains(@class,'content_mod')]//h2[contains(@class,'title')]",
           "//*[contains(@class,'news_header_title')]", "//*[@id='News_Body_Title']", "//title"],
    "zh": ["//*[@id='News_Body_Title']", "//*[contains(@class,'news-title')]//h1", "//h1", "//title"],
}
TIME = ["//*[@id='News_Body_Time']", "//*[contains(@class,'xltime')]", "//meta[@name='PubDate']/@content"]
BODY = {
    "en": ["//*[contains(@class,'content_mod')]//div[contains(concat(' ',@class,' '),' content ')]",
           "//*[contains(@class,'content_text')]", "//*[@id='News_Body_Txt_A']",
           "//*[contains(@class,'TRS_Editor')]"],
    "zh": ["//*[@id='News_Body_Txt_A']", "//*[contains(@class,'news-main')]",
           "//*[contains(@class,'content_text')]"],
}
BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td",
          "blockquote", "section", "center"}
SKIP = {"script", "style", "noscript", "iframe", "form", "input", "button", "select", "textarea"}
WS = re.compile(r"\s+")
LABEL = re.compile(r"^(.{1,48}?)[:：]\s*(.*)$")
SPOKES = {"Lu Kang", "Hua Chunying", "Geng Shuang", "Zhao Lijian", "Wang Wenbin", "Mao Ning", "Lin Jian",
          "Guo Jiakun", "陆慷", "华春莹", "耿爽", "赵立坚", "汪文斌", "毛宁", "林剑", "郭嘉昆", "A", "答"}
DATE_EN = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|December)\s+(\d{1,2}),\s+(\d{4})")
DATE_ZH = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def normalize(text):
    return unicodedata.normalize("NFC", WS.sub(" ", text.replace("\u3000", " ").replace("\xa0", " ")).strip())


def paragraphs(body):
    out, current = [], []

    def flush():
        if current:
            text = normalize("".join(current))
            if text:
                out.append(text)
            current.clear()

    def walk(element):
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in SKIP:
            if element.tail:
                current.append(element.tail)
            return
        block = tag in BLOCKS
        if block:
            flush()
        if element.text:
            current.append(element.text)
        for child in element:
            walk(child)
        if block:
            flush()
        if element.tail:
            current.append(element.tail)

    walk(body)
    flush()
    return out


def segment(paras):
    opening, exchanges = [], []
    for p in paras:
        m = LABEL.match(p)
        label = m.group(1).strip() if m else None
        if label and (label in SPOKES):
            if exchanges and not exchanges[-1]["answer"]:
                exchanges[-1]["answer"].append(m.group(2))
            elif exchanges:
                exchanges[-1]["answer"].append(p)
            else:
                opening.append(m.group(2))
        elif label and (label in ("Q", "问") or label.endswith("记者") or
                        (len(label.split()) <= 7 and all(w[:1].isupper() for w in label.split()))):
            exchanges.append({"asker": label, "question": [m.group(2)], "answer": []})
        elif exchanges:
            (exchanges[-1]["question"] if not exchanges[-1]["answer"] else exchanges[-1]["answer"]).append(p)
        else:
            opening.append(p)
    return opening, exchanges


def first_text(doc, chain):
    for xpath in chain:
        for found in doc.xpath(xpath):
            text = normalize(found if isinstance(found, str) else found.text_content())
            if text:
                return text
    return None


def extract(url, page):
    lang = "en" if "/mfa_eng/" in url or "/eng/" in url else "zh"
    doc = lxml_html.document_fromstring(page)
    body_paras = None
    for xpath in BODY[lang]:
        for body in doc.xpath(xpath):
            body_paras = paragraphs(body)
            if body_paras:
                break
        if body_paras:
            break
    if not body_paras:
        raise ValueError(f"layout not recognized: {url}")
    title = first_text(doc, TITLE[lang]) or ""
    published = first_text(doc, TIME)
    date = (DATE_EN if lang == "en" else DATE_ZH).search(title)
    opening, exchanges = segment(body_paras)
    canonical = "\n".join([title, published or "", date.group(0) if date else ""] + opening +
                          [line for e in exchanges for line in [e["asker"]] + e["question"] + e["answer"]])
    return {"title": title, "exchanges": exchanges, "hash": hashlib.sha256(canonical.encode()).hexdigest()}


def main():
    corpus = os.environ.get("BRIEFWATCH_CORPUS")
    if not corpus or not Path(corpus, "mfa-2020", "MANIFEST.tsv").is_file():
        print("BRIEFWATCH_CORPUS not set: lxml comparison skipped")
        return
    root = Path(corpus, "mfa-2020")
    pages = []
    for line in (root / "MANIFEST.tsv").read_text().splitlines()[1:]:
        url, status, _, file, *_ = line.split("\t")
        name = url.rsplit("/", 1)[-1]
        if status != "200" or name.startswith(("default", "index")) or name in ("robots.txt", "error.htm"):
            continue
        pages.append((url, (root / file).read_bytes().decode("utf-8")))
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for url, page in pages:
            extract(url, page)
        timings.append(time.perf_counter() - start)
    exchanges = sum(len(extract(url, page)["exchanges"]) for url, page in pages)
    best, mean = min(timings), sum(timings) / len(timings)
    print(f"lxml extraction of {len(pages)} pages ({exchanges} exchanges): best {best * 1000:.0f} ms, "
          f"mean {mean * 1000:.0f} ms over {rounds} rounds ({len(pages) / best:.0f} pages/s)")


if __name__ == "__main__":
    main()
