"""Write the bundled sample dataset used by the local run and the tests.

    .venv/bin/python training-code/tools/make_sample_data.py

The rows follow the HuggingFaceH4/Multilingual-Thinking schema (`reasoning_language`, `developer`, `user`,
`analysis`, `final` and the same conversation as `messages` with the reasoning in the assistant's `thinking`),
but every sentence is our own: five small task families, each with the chain of thought written by hand in
seven languages. The output is deterministic, so re-running the script reproduces the committed file.
"""

import json
import random
from pathlib import Path


OUTPUT = Path(__file__).resolve().parents[1] / "gpt_oss_train" / "sample_data" / "multilingual_thinking_sample.jsonl"

DEVELOPERS = {
    "sum": "You are a careful math tutor. Answer briefly.",
    "capital": "You are a geography assistant. Answer in one sentence.",
    "minutes": "You are a careful math tutor. Answer briefly.",
    "letters": "You are a patient spelling coach. Answer briefly.",
    "recipe": "You are a recipe suggestion bot. Suggest simple dishes with short steps.",
}

USER = {
    "sum": "What is {a} + {b}?",
    "capital": "What is the capital of {country}?",
    "minutes": "How many minutes are in {h} hours?",
    "letters": 'How many letters are in the word "{w}"?',
    "recipe": "Suggest a quick dish with {ingredient}.",
}

FINAL = {
    "sum": "{a} + {b} = {c}.",
    "capital": "The capital of {country} is {capital}.",
    "minutes": "{h} hours are {m} minutes.",
    "letters": 'The word "{w}" has {n} letters.',
    "recipe": "Try {dish}: {steps}",
}

THINKING = {
    "English": {
        "sum": "The user wants the sum of {a} and {b}. Adding them gives {c}. I will state the result plainly.",
        "capital": "The user asks for the capital of {country}. The capital of {country} is {capital}. "
        "One sentence is enough.",
        "minutes": "The user asks how many minutes are in {h} hours. One hour has 60 minutes, so {h} times 60 is {m}.",
        "letters": "I need to count the letters in '{w}'. Spelled out: {spelled}. That is {n} letters.",
        "recipe": "The user has {ingredient} and wants something quick. {dish} is simple and fast. I will give "
        "the idea and the steps.",
    },
    "French": {
        "sum": "L'utilisateur veut la somme de {a} et {b}. En les additionnant, on obtient {c}. Je donne le "
        "résultat simplement.",
        "capital": "L'utilisateur demande la capitale de {country}. La capitale est {capital}. Une phrase suffit.",
        "minutes": "L'utilisateur demande combien de minutes il y a dans {h} heures. Une heure compte 60 minutes, "
        "donc {h} fois 60 font {m}.",
        "letters": "Je dois compter les lettres de « {w} ». Épelé : {spelled}. Cela fait {n} lettres.",
        "recipe": "L'utilisateur a {ingredient} et veut un plat rapide. {dish} est simple et rapide. Je donne "
        "l'idée et les étapes.",
    },
    "German": {
        "sum": "Der Nutzer möchte die Summe von {a} und {b}. Zusammengezählt ergibt das {c}. Ich nenne das "
        "Ergebnis direkt.",
        "capital": "Der Nutzer fragt nach der Hauptstadt von {country}. Die Hauptstadt ist {capital}. Ein Satz "
        "genügt.",
        "minutes": "Der Nutzer fragt, wie viele Minuten {h} Stunden haben. Eine Stunde hat 60 Minuten, also "
        "ergibt {h} mal 60 genau {m}.",
        "letters": "Ich zähle die Buchstaben in „{w}“. Buchstabiert: {spelled}. Das sind {n} Buchstaben.",
        "recipe": "Der Nutzer hat {ingredient} und möchte etwas Schnelles. {dish} ist einfach und schnell. Ich "
        "nenne die Idee und die Schritte.",
    },
    "Spanish": {
        "sum": "El usuario quiere la suma de {a} y {b}. Al sumarlos se obtiene {c}. Doy el resultado directamente.",
        "capital": "El usuario pregunta por la capital de {country}. La capital es {capital}. Basta con una frase.",
        "minutes": "El usuario pregunta cuántos minutos hay en {h} horas. Una hora tiene 60 minutos, así que {h} "
        "por 60 son {m}.",
        "letters": "Tengo que contar las letras de «{w}». Deletreado: {spelled}. Son {n} letras.",
        "recipe": "El usuario tiene {ingredient} y quiere algo rápido. {dish} es sencillo y rápido. Doy la idea "
        "y los pasos.",
    },
    "Italian": {
        "sum": "L'utente vuole la somma di {a} e {b}. Sommandoli si ottiene {c}. Indico il risultato in modo "
        "semplice.",
        "capital": "L'utente chiede la capitale di {country}. La capitale è {capital}. Basta una frase.",
        "minutes": "L'utente chiede quanti minuti ci sono in {h} ore. Un'ora ha 60 minuti, quindi {h} per 60 fa {m}.",
        "letters": "Devo contare le lettere di «{w}». Compitato: {spelled}. Sono {n} lettere.",
        "recipe": "L'utente ha {ingredient} e vuole qualcosa di veloce. {dish} è semplice e rapido. Do l'idea "
        "e i passaggi.",
    },
    "Portuguese": {
        "sum": "O usuário quer a soma de {a} e {b}. Somando, obtemos {c}. Vou informar o resultado diretamente.",
        "capital": "O usuário pergunta a capital de {country}. A capital é {capital}. Uma frase basta.",
        "minutes": "O usuário pergunta quantos minutos há em {h} horas. Uma hora tem 60 minutos, então {h} "
        "vezes 60 dá {m}.",
        "letters": 'Preciso contar as letras de "{w}". Soletrando: {spelled}. São {n} letras.',
        "recipe": "O usuário tem {ingredient} e quer algo rápido. {dish} é simples e rápido. Vou dar a ideia e "
        "os passos.",
    },
    "Japanese": {
        "sum": "ユーザーは{a}と{b}の合計を知りたい。足すと{c}になる。結果をそのまま答える。",
        "capital": "ユーザーは{country}の首都を尋ねている。首都は{capital}だ。一文で十分。",
        "minutes": "ユーザーは{h}時間が何分かを尋ねている。1時間は60分なので、{h}×60で{m}分になる。",
        "letters": "「{w}」の文字数を数える。綴りは{spelled}。全部で{n}文字。",
        "recipe": "ユーザーは{ingredient}を持っていて、手早い料理を求めている。{dish}は簡単で早い。"
        "アイデアと手順を伝える。",
    },
}

CAPITALS = [
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Spain", "Madrid"),
    ("Italy", "Rome"),
    ("Portugal", "Lisbon"),
    ("Japan", "Tokyo"),
    ("Canada", "Ottawa"),
    ("Kenya", "Nairobi"),
    ("Peru", "Lima"),
    ("Norway", "Oslo"),
    ("Egypt", "Cairo"),
    ("Australia", "Canberra"),
    ("Chile", "Santiago"),
    ("Poland", "Warsaw"),
]

WORDS = ["apple", "river", "garden", "window", "mountain", "pencil", "orange", "bridge", "planet", "candle", "forest"]

RECIPES = [
    (
        "eggs",
        "a herb omelette",
        "whisk two eggs with chopped herbs, then cook them in a buttered pan for two minutes.",
    ),
    ("rice", "vegetable fried rice", "fry cooked rice with diced vegetables and soy sauce for five minutes."),
    ("tomatoes", "a tomato salad", "slice the tomatoes, add olive oil, salt and basil, and serve."),
    ("pasta", "garlic pasta", "boil the pasta, then toss it with olive oil, sliced garlic and parmesan."),
    ("chickpeas", "a chickpea curry", "simmer chickpeas with onion, curry paste and coconut milk for ten minutes."),
    ("potatoes", "pan-fried potatoes", "cube the potatoes and fry them with oil and rosemary until golden."),
    ("spinach", "creamy spinach", "wilt the spinach in a pan and stir in a spoon of cream."),
]


def task_values(task: str, rng: random.Random) -> dict:
    if task == "sum":
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        return {"a": a, "b": b, "c": a + b}
    if task == "capital":
        country, capital = rng.choice(CAPITALS)
        return {"country": country, "capital": capital}
    if task == "minutes":
        h = rng.randint(2, 12)
        return {"h": h, "m": h * 60}
    if task == "letters":
        w = rng.choice(WORDS)
        return {"w": w, "spelled": "-".join(w), "n": len(w)}
    ingredient, dish, steps = rng.choice(RECIPES)
    return {"ingredient": ingredient, "dish": dish, "steps": steps}


def make_rows(per_combination: int = 2, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for language, thinking in THINKING.items():
        for task, developer in DEVELOPERS.items():
            for _ in range(per_combination):
                values = task_values(task, rng)
                user = USER[task].format(**values)
                analysis = thinking[task].format(**values)
                final = FINAL[task].format(**values)
                system = f"reasoning language: {language}\n\n{developer}"
                rows.append(
                    {
                        "reasoning_language": language,
                        "developer": developer,
                        "user": user,
                        "analysis": analysis,
                        "final": final,
                        "messages": [
                            {"role": "system", "content": system, "thinking": None},
                            {"role": "user", "content": user, "thinking": None},
                            {"role": "assistant", "content": final, "thinking": analysis},
                        ],
                    }
                )
    rng.shuffle(rows)
    return rows


if __name__ == "__main__":
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="utf-8") as handle:
        for row in make_rows():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {OUTPUT}")
