import xml.dom.minidom
import xml.etree.ElementTree as ET
import xml.sax
from xml.sax.handler import feature_external_ges, feature_namespaces

import defusedxml.ElementTree
from lxml import etree

USERS_XML = "<users><user name='admin'/></users>"


def parse(data: bytes, path: str) -> None:
    # ruleid: python-xxe-lxml
    parser = etree.XMLParser()
    # ruleid: python-xxe-lxml
    loud = etree.XMLParser(resolve_entities=True, no_network=False)
    # ok: python-xxe-lxml
    safe = etree.XMLParser(resolve_entities=False, no_network=True)
    etree.fromstring(data, parser=safe)
    # ruleid: python-xml-stdlib-untrusted
    ET.fromstring(data)
    # ruleid: python-xml-stdlib-untrusted
    ET.parse(path)
    # ruleid: python-xml-stdlib-untrusted
    xml.dom.minidom.parseString(data)
    # ruleid: python-xml-stdlib-untrusted
    xml.sax.make_parser()
    # ok: python-xml-stdlib-untrusted
    defusedxml.ElementTree.fromstring(data)
    # ok: python-xml-stdlib-untrusted
    ET.tostring(ET.Element("root"))
    # ok: python-xml-stdlib-untrusted
    ET.fromstring(USERS_XML)
    # ok: python-xml-stdlib-untrusted
    xml.dom.minidom.parseString("<users><user name='admin'/></users>")
    return parser, loud


def sax(document):
    # ruleid: python-xml-stdlib-untrusted
    parser = xml.sax.make_parser()
    # ruleid: python-xml-entities-enabled
    parser.setFeature(feature_external_ges, True)
    # ok: python-xml-entities-enabled
    parser.setFeature(feature_external_ges, False)
    # ok: python-xml-entities-enabled
    parser.setFeature(feature_namespaces, True)
    return parser
