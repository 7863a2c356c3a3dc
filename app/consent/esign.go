package consent

import (
	"strings"

	"github.com/storykeep/storykeep/app/organisation"
)

// EsignDisclosureVersion names the wording of the e-sign consumer
// disclosure below. Version 1 was a single paragraph without contact
// details (records signed before it have no version stored). Change the
// version whenever the wording changes: the record keeps the version, the
// exact text shown (with the organisation's contact details filled in) and
// its SHA-256, which the signed scope binds.
const EsignDisclosureVersion = "2"

// esignParas is the consumer disclosure (the U.S. ESIGN Act, 15 U.S.C.
// 7001(c)): scope, the right to paper and its cost, how to withdraw consent
// to electronic records and what withdrawing means, how to update the email
// address, and the hardware and software needed. {legal}, {address},
// {phone} and {email} are the organisation's details (Admin → Organisation).
var esignParas = map[string][]string{
	"en": {
		"Agreement to use electronic records and signatures (version 2).",
		"What it covers: only this authorization to share your story with {legal}: the form, your signature, your signed copy, and the notices about it (reminders, the receipt if you cancel, and notices before it ends). It does not cover your medical care or any other records.",
		"You do not have to sign electronically. You can sign this form on paper instead: call {phone}, email {email}, or write to {legal}, {address}. An electronic signature counts the same as a signature on paper.",
		"Your copies: you can download the signed form as a PDF file on the next page, and we email it to you. You can ask for a paper copy of the signed form or of any notice at any time, free of charge: call {phone} or email {email}.",
		"What you need: a phone, tablet or computer with an up-to-date web browser (such as a current Chrome, Safari, Firefox or Edge) with JavaScript and cookies turned on for this site; an internet connection; an email address you can open; and a program that can open, save or print PDF files (most phones and computers have one). If you cannot open or keep the PDF, ask us for paper.",
		"To change the email address we use for you, call {phone} or email {email}.",
		"You can withdraw this agreement at any time, free of charge: call {phone}, email {email} or write to {legal}, {address}. Withdrawing means we send you everything about this authorization on paper from then on. It does not cancel the authorization or undo anything you already signed electronically; to cancel the authorization itself, use your personal cancellation link or write to us.",
	},
	"es": {
		"Acuerdo para usar documentos y firmas electrónicas (versión 2).",
		"Qué abarca: solo esta autorización para que {legal} comparta su historia: el formulario, su firma, su copia firmada y los avisos sobre ella (recordatorios, el comprobante si la cancela y los avisos antes de que termine). No abarca su atención médica ni ningún otro documento.",
		"No tiene que firmar electrónicamente. Puede firmar este formulario en papel: llame al {phone}, escriba a {email} o envíe una carta a {legal}, {address}. Una firma electrónica vale lo mismo que una firma en papel.",
		"Sus copias: puede descargar el formulario firmado en un archivo PDF en la página siguiente, y se lo enviamos por correo electrónico. Puede pedir una copia en papel del formulario firmado o de cualquier aviso cuando quiera, sin costo: llame al {phone} o escriba a {email}.",
		"Lo que necesita: un teléfono, tableta o computadora con un navegador web actualizado (por ejemplo, una versión actual de Chrome, Safari, Firefox o Edge) con JavaScript y cookies activados para este sitio; conexión a internet; una dirección de correo electrónico que pueda abrir; y un programa que abra, guarde o imprima archivos PDF (la mayoría de los teléfonos y computadoras lo tienen). Si no puede abrir o guardar el PDF, pídanos papel.",
		"Para cambiar la dirección de correo electrónico que usamos, llame al {phone} o escriba a {email}.",
		"Puede retirar este acuerdo en cualquier momento, sin costo: llame al {phone}, escriba a {email} o envíe una carta a {legal}, {address}. Retirarlo significa que desde entonces le enviaremos todo lo relativo a esta autorización en papel. No cancela la autorización ni deshace lo que ya firmó electrónicamente; para cancelar la autorización, use su enlace personal para cancelar o escríbanos.",
	},
}

// EsignDisclosureParas is the disclosure shown in language (English when
// unknown), one string per paragraph, with the organisation's contact
// details filled in.
func EsignDisclosureParas(language string, org organisation.Profile) []string {
	paras, ok := esignParas[language]
	if !ok {
		paras = esignParas["en"]
	}
	dash := func(s string) string {
		if strings.TrimSpace(s) == "" {
			return "—"
		}
		return s
	}
	r := strings.NewReplacer("{legal}", dash(org.LegalName), "{address}", dash(org.AddressLine()), "{phone}", dash(org.Phone), "{email}", dash(org.PrivacyEmail))
	out := make([]string, len(paras))
	for i, p := range paras {
		out[i] = r.Replace(p)
	}
	return out
}

// EsignDisclosureFor is the disclosure as one text (paragraphs separated by
// a blank line): what the record stores and hashes.
func EsignDisclosureFor(language string, org organisation.Profile) string {
	return strings.Join(EsignDisclosureParas(language, org), "\n\n")
}

// EsignDisclosure is the disclosure in language without contact details
// (the organisation's are unknown); see EsignDisclosureFor.
func EsignDisclosure(language string) string {
	return EsignDisclosureFor(language, organisation.Profile{})
}
